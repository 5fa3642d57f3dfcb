"""Options checked by name and by value, with errors naming the option.

A registered source or step is a function or class called with the user's
options as keyword arguments; an unknown one would surface as Python's
``TypeError: f() got an unexpected keyword argument``, naming neither the
config key nor the valid choices. :func:`check_call_options` checks the
names against the signature first.
"""
import inspect
from typing import Any, Callable, Collection, Mapping, Optional, Sequence

from .errors import InputOptionError


def keyword_names(func: Callable, skip: int = 0) -> Optional[tuple]:
    """The names ``func`` accepts as keywords, after its first ``skip``
    parameters (and ``self`` for a class); None when it takes ``**kwargs``
    (any name may be valid) or has no readable signature."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params[skip:]
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def check_option_names(options: Mapping[str, Any], valid: Sequence[str],
                       what: str) -> None:
    """Raise :class:`InputOptionError` naming ``what`` and the valid names
    if ``options`` has a key outside ``valid``."""
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputOptionError(
            f'{what}: unknown option{"s" if len(unknown) > 1 else ""} '
            f'{", ".join(map(repr, unknown))}; valid options: '
            f'{", ".join(valid) or "none"}')


def check_call_options(func: Callable, options: Mapping[str, Any],
                       what: str, skip: int = 0) -> None:
    """Check ``options`` by name against ``func``'s keyword parameters
    after the first ``skip`` (which the caller fills): none unknown (unless
    ``func`` takes ``**kwargs``), none of the required ones missing."""
    valid = keyword_names(func, skip)
    if valid is not None:
        check_option_names(options, valid, what)
    try:
        params = list(inspect.signature(func).parameters.values())[skip:]
    except (TypeError, ValueError):
        return
    missing = [p.name for p in params
               if p.default is p.empty and p.name not in options
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        raise InputOptionError(
            f'{what}: missing the option{"s" if len(missing) > 1 else ""} '
            f'{", ".join(map(repr, missing))}')


def check_choice(name: str, value: Any, choices: Collection) -> None:
    """Raise :class:`InputOptionError` unless ``value`` is one of
    ``choices``: ``name must be one of (...), got 'x'``."""
    if value not in choices:
        raise InputOptionError(
            f'{name} must be one of {tuple(choices)}, got {value!r}')
