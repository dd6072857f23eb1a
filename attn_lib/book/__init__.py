"""What only the book's pages need: the library's source shown in a cell, the notes' errata,
numerical checks printed as machine-independent facts, and the imports the book's own
environment needs help with."""

from . import environment, errata
from .checks import agreement
from .source import show_source

__all__ = ["agreement", "environment", "errata", "show_source"]
