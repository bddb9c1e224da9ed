"""Messages the engines give a person: an English template with named placeholders, and its arguments.

The engines never build a sentence in a language: they return ``Message(code, template, args)``.

- ``code`` is stable and meant for programs (tests, filters, icons);
- ``template`` is the English source text with ``%(name)s`` placeholders, a constant of the engine module;
- ``args`` are plain strings or numbers, so the message is JSON-ready.

The Odoo layer either translates at once, ``env._(message.template, **message.args)``, or stores
``message.to_data()``, which is the stored form of ``shop_logistics.lazy_text`` (``source``, ``module``,
``args``): ``lazy_text.render(data, lang)`` then shows it in each reader's language.

``_lt`` only marks a template for Odoo's term extraction (it collects the literal arguments of calls named
``_`` and ``_lt``), so the templates land in ``i18n/shop_logistics.pot`` and get their zh_CN translation in
``zh_CN.po``; it returns the text unchanged and imports nothing from Odoo.
"""

from decimal import Decimal
from typing import NamedTuple

MODULE = "shop_logistics"


def _lt(template):
    """Mark ``template`` for translation (see the module docstring); return it unchanged."""
    return template


class Message(NamedTuple):
    code: str
    template: str
    args: dict = {}

    def render(self):
        """The English text (tests, logs, command-line tools)."""
        return self.template % self.args if self.args else self.template

    def to_data(self, **extra):
        """JSON-ready form, readable by ``shop_logistics.lazy_text.render``; ``extra`` keys are added.

        ``args`` is shared with the message, not copied: treat both as read-only.
        """
        return {"code": self.code, "source": self.template, "module": MODULE, "args": self.args, **extra}

    def __str__(self):
        return self.render()


def plain(value):
    """A number as text without exponent or float noise: Decimal("2.50") → "2.50", Decimal("3E+1") → "30"."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def money(value):
    """An amount as text with two decimals: Decimal("12") → "12.00"."""
    return format(Decimal(value).quantize(CENT), "f")


def listing(values):
    """Values joined for a message argument: names stay as they are, in the given order."""
    return ", ".join(str(value) for value in values)


CENT = Decimal("0.01")
