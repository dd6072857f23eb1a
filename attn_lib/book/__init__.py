"""What only the book's pages need: the library's source shown in a cell, the notes' errata,
and the imports the book's own environment needs help with."""

from . import environment, errata
from .source import show_source

__all__ = ["environment", "errata", "show_source"]
