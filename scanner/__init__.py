"""trustscan: a dependency and package-registry trust scanner."""

__version__ = "0.1.0"
