"""The only package that touches the network."""

from scanner.options import DEFAULT_INDEX
from scanner.registry.http import ClientConfig, HttpClient, RequestLog
from scanner.registry.index import Index

__all__ = ["DEFAULT_INDEX", "ClientConfig", "HttpClient", "Index", "RequestLog"]
