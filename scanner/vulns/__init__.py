"""Vulnerability sources behind one interface; 'could not check' is never 'clean'."""

from scanner.models import Advisory
from scanner.vulns.interface import VulnerabilitySource
from scanner.vulns.osv import OsvDatabase

__all__ = ["Advisory", "OsvDatabase", "VulnerabilitySource"]
