"""The only package that touches the network."""

from scanner.registry.http import ClientConfig, HttpClient, RequestLog
from scanner.registry.index import DEFAULT_INDEX, Index

__all__ = ["DEFAULT_INDEX", "ClientConfig", "HttpClient", "Index", "RequestLog"]
