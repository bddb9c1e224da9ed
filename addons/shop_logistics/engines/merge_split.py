"""Merging orders into one parcel and splitting an order into several deliveries.

Merge: ``propose_merges(orders)`` groups the orders not yet printed of the same shop, buyer, receiver and
address (the platform's ``address_key`` when it masks the address; orders masked without one are never
merged, since two masked receivers cannot be told apart). Each group of two or more is a ``MergeProposal``.
``merge_orders`` makes one order of a group; its lines keep their ``order_key``.

Split: ``split_order(order, allocation, separate_tags)`` turns an order and its warehouse allocation into
``Delivery`` objects, one per warehouse and shipping class. A line tagged with one of ``separate_tags``
(``fresh`` by default: it needs a cold-chain carrier) travels apart from the others. Every ``DeliveryLine``
names its order line; quantities add up to the line's quantity, and amounts, shared in proportion to the
quantity, add up to the line's amount to the cent (the last part takes the rounding remainder).
"""

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from .messages import CENT, Message, _lt, listing, money
from .orders import ZERO, normalise_text

MERGE_PROPOSED = _lt("Same shop, buyer and address, not printed yet: %(orders)s.")
SPLIT_WAREHOUSES = _lt("Stock is in %(count)s warehouses: one delivery from each.")
SPLIT_SEPARATE = _lt("%(items)s travel apart as %(tag)s goods.")

DEFAULT_SEPARATE_TAGS = ("fresh",)


@dataclass(frozen=True, slots=True)
class MergeProposal:
    order_keys: tuple
    shop: str
    buyer: str
    amount_total: Decimal
    message: Message

    def to_data(self):
        return {"orders": list(self.order_keys), "amount_total": money(self.amount_total),
                "message": self.message.to_data()}


def merge_key(order):
    """None when the order cannot be merged safely."""
    if order.contact_masked and not order.address_key:
        return None
    receiver = order.address_key or (normalise_text(order.receiver), normalise_text(order.mobile),
                                     order.address.fingerprint())
    return order.shop, order.buyer, receiver


def propose_merges(orders, can_merge=None):
    """Merge proposals for ``orders``; ``can_merge(order)`` narrows the candidates (default: not printed)."""
    can_merge = can_merge or (lambda order: not order.printed)
    groups = {}
    for order in orders:
        key = merge_key(order) if can_merge(order) else None
        if key is not None:
            groups.setdefault(key, []).append(order)
    proposals = []
    for group in groups.values():
        if len(group) < 2:
            continue
        message = Message("merge.proposed", MERGE_PROPOSED, {"orders": listing(order.name for order in group)})
        total = sum((order.total for order in group), ZERO)
        proposals.append(MergeProposal(tuple(order.key for order in group), group[0].shop, group[0].buyer,
                                       total, message))
    return proposals


def merge_orders(orders):
    """One order carrying every line of ``orders`` (the first one's key and data); each line keeps its order."""
    first = orders[0]
    lines = tuple(
        line if line.order_key is not None else replace(line, order_key=order.key)
        for order in orders
        for line in order.lines
    )
    return replace(
        first,
        name=listing(order.name for order in orders),
        lines=lines,
        amount_total=sum((order.total for order in orders), ZERO),
        remark_tags=frozenset().union(*(order.remark_tags for order in orders)),
        risk_flags=frozenset().union(*(order.risk_flags for order in orders)),
        remark="\n".join(order.remark for order in orders if order.remark),
    )


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    order_key: object
    line_key: object
    product: object
    quantity: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Delivery:
    order_key: object
    warehouse: object  # key
    shipping_class: str  # "" for ordinary goods, else the separate tag ("fresh")
    lines: tuple  # DeliveryLine
    weight_kg: Decimal
    volume_cm3: Decimal
    value: Decimal
    categories: frozenset
    tags: frozenset

    def to_data(self):
        return {
            "order": self.order_key,
            "warehouse": self.warehouse,
            "shipping_class": self.shipping_class,
            "lines": [[line.line_key, format(line.quantity, "f"), money(line.amount)] for line in self.lines],
            "weight_kg": format(self.weight_kg, "f"),
            "volume_cm3": format(self.volume_cm3, "f"),
            "value": money(self.value),
        }


@dataclass(frozen=True, slots=True)
class SplitPlan:
    order_key: object
    deliveries: tuple
    explanation: tuple  # Messages: why there is more than one delivery

    @property
    def split(self):
        return len(self.deliveries) > 1


def shipping_class(line, separate_tags):
    return next((tag for tag in separate_tags if tag in line.tags), "")


def split_order(order, allocation, separate_tags=DEFAULT_SEPARATE_TAGS):
    """The deliveries of ``order`` given its ``allocation.Allocation`` (unallocated quantities stay out)."""
    lines = {line.key: line for line in order.lines}
    portions = {}  # (warehouse, class) → [(line, quantity)]
    for part in allocation.parts:
        for line_key, quantity in part.lines:
            line = lines[line_key]
            portions.setdefault((part.warehouse, shipping_class(line, separate_tags)), []).append((line, quantity))
    amounts = share_amounts(order, allocation)
    deliveries = tuple(
        make_delivery(order, warehouse, klass, portion, amounts)
        for (warehouse, klass), portion in portions.items()
    )
    return SplitPlan(order.key, deliveries, tuple(split_reasons(order, allocation, deliveries, separate_tags)))


def share_amounts(order, allocation):
    """(warehouse, line key) → the part of the line's amount shipped from there; exact to the cent."""
    shares = {}
    for line in order.lines:
        pieces = [(part.warehouse, quantity) for part in allocation.parts for key, quantity in part.lines
                  if key == line.key]
        remaining = line.amount
        for index, (warehouse, quantity) in enumerate(pieces):
            if index == len(pieces) - 1 and sum(q for _w, q in pieces) == line.quantity:
                share = remaining
            else:
                share = (line.amount * quantity / line.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
            shares[(warehouse, line.key)] = share
            remaining -= share
    return shares


def make_delivery(order, warehouse, klass, portion, amounts):
    delivery_lines = tuple(
        DeliveryLine(line.order_key if line.order_key is not None else order.key, line.key, line.product,
                     quantity, amounts[(warehouse, line.key)])
        for line, quantity in portion
    )
    return Delivery(
        order_key=order.key,
        warehouse=warehouse,
        shipping_class=klass,
        lines=delivery_lines,
        weight_kg=sum((line.unit_weight_kg * quantity for line, quantity in portion), ZERO),
        volume_cm3=sum((line.unit_volume_cm3 * quantity for line, quantity in portion), ZERO),
        value=sum((delivery_line.amount for delivery_line in delivery_lines), ZERO),
        categories=frozenset(line.category for line, _quantity in portion if line.category),
        tags=frozenset().union(*(line.tags for line, _quantity in portion)),
    )


def split_reasons(order, allocation, deliveries, separate_tags):
    reasons = []
    if allocation.split:
        reasons.append(Message("split.warehouses", SPLIT_WAREHOUSES, {"count": len(allocation.parts)}))
    classes = {delivery.shipping_class for delivery in deliveries}
    if len(classes) > 1:
        for tag in separate_tags:
            if tag in classes:
                items = listing(line.label for line in order.lines if shipping_class(line, separate_tags) == tag)
                reasons.append(Message("split.separate", SPLIT_SEPARATE, {"items": items, "tag": tag}))
    return reasons
