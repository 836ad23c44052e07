"""A stateful mock of token-metadata APIs: those of the registry in `mockserver.apis`."""

__version__ = "0.1.0.dev0"

# The registry fills in the settings' and fixtures' API sections: loaded with the package, so that settings and
# fixtures built through any of its modules have them.
from mockserver import apis as apis

