"""The fourteen allergens EU Regulation 1169/2011 (Annex II) requires a venue to declare:
the vocabulary of recipes and of diners' allergies alike."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["ALLERGENS", "Allergen"]

Allergen = Literal[
    "celery",
    "cereals_containing_gluten",
    "crustaceans",
    "eggs",
    "fish",
    "lupin",
    "milk",
    "molluscs",
    "mustard",
    "tree_nuts",
    "peanuts",
    "sesame",
    "soya",
    "sulphites",
]
ALLERGENS: tuple[str, ...] = get_args(Allergen)
