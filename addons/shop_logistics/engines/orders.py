"""The plain data the models hand to the engines: orders with their lines, warehouses and their stock.

Keys (``Order.key``, ``OrderLine.key``, ``product``, ``Warehouse.key``) are whatever identifies the record for
the caller, database ids in Odoo; the engines only compare them and hand them back. Quantities and amounts are
``Decimal`` (``Decimal(str(float_value))`` from a float field), weights in kg, volumes in cm³.
"""

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

ZERO = Decimal(0)
NORMALISE = re.compile(r"[\s,，.。\-—#()（）]+")


def normalise_text(text):
    return NORMALISE.sub("", text or "").casefold()


@dataclass(frozen=True, slots=True)
class Address:
    province: str
    city: str
    district: str = ""
    street: str = ""

    @property
    def full(self):
        return "".join((self.province, self.city, self.district, self.street))

    def fingerprint(self):
        """The same address however it was spaced or punctuated."""
        return normalise_text(self.full)


@dataclass(frozen=True, slots=True)
class OrderLine:
    key: Hashable
    product: Hashable
    quantity: Decimal
    amount: Decimal  # what the buyer pays for the whole line, in CNY
    sku: str = ""  # shown to people: the merchant code (商家编码) or product reference
    unit_weight_kg: Decimal = ZERO
    unit_volume_cm3: Decimal = ZERO
    category: str = ""
    tags: frozenset = frozenset()  # product tags: "fresh", "fragile", "high_value" …
    order_key: Hashable = None  # the order the line belongs to, when lines of merged orders travel together

    @property
    def label(self):
        return self.sku or str(self.product)


@dataclass(frozen=True, slots=True)
class Order:
    key: Hashable
    name: str  # the reference the clerk knows (SO0042, or the platform's order number)
    shop: str
    platform: str
    buyer: str  # the buyer's id or nickname on the platform
    receiver: str
    mobile: str
    address: Address
    lines: tuple
    paid_at: datetime | None = None
    amount_total: Decimal | None = None  # what the buyer paid; the sum of the lines when None
    remark: str = ""
    remark_tags: frozenset = frozenset()  # codes of logistics.remark.tag found in the remark (require_sf …)
    risk_flags: frozenset = frozenset()  # the platform's own risk marks, as its codes
    contact_masked: bool = False  # the platform masks receiver data (the carrier gets it decrypted)
    address_key: str = ""  # the platform's stable id of the receiver when masked (Taobao OAID …)
    printed: bool = False  # a label was printed: no longer merged

    @property
    def total(self):
        if self.amount_total is not None:
            return self.amount_total
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def quantity(self):
        return sum((line.quantity for line in self.lines), ZERO)

    def demand(self):
        """Quantity ordered per product, lines of the same product added up."""
        wanted = {}
        for line in self.lines:
            wanted[line.product] = wanted.get(line.product, ZERO) + line.quantity
        return wanted


@dataclass(frozen=True, slots=True)
class Warehouse:
    key: Hashable
    name: str
    daily_capacity: int | None = None  # deliveries a day; None: no limit
    shipped_today: int = 0  # deliveries already planned for today
    cost: Decimal = ZERO  # handling cost of one delivery, compared when the region does not decide
    shops: frozenset = frozenset()  # shops it ships for; empty: every shop
    active: bool = True

    def serves(self, shop):
        return self.active and (not self.shops or shop in self.shops)


@dataclass(slots=True)
class StockBook:
    """Quantities available per ``(warehouse key, product)``; engines take from it as they decide a batch."""

    quantities: dict = field(default_factory=dict)

    def available(self, warehouse, product):
        return self.quantities.get((warehouse, product), ZERO)

    def total(self, product, warehouses):
        return sum((self.available(warehouse, product) for warehouse in warehouses), ZERO)

    def take(self, warehouse, product, quantity):
        self.quantities[(warehouse, product)] = self.available(warehouse, product) - quantity

    def copy(self):
        return StockBook(dict(self.quantities))
