"""Warehouse allocation: which warehouse ships which order lines.

The nearest warehouse comes first: ``RegionPriority`` rows map a region (a ``cn_regions.RegionSet``: 华北,
华南 …) to its warehouses, nearest first (华北 → Beijing, Shanghai; 华南 → Guangzhou, Shanghai). The first row
whose region holds the destination ranks the warehouses; the warehouses it does not list, and every warehouse
when no row holds the destination, follow by cost. Then, in that order:

1. a warehouse that does not ship for the shop, or whose daily capacity is used up, is skipped;
2. the first warehouse with stock for the whole order ships it;
3. when none has everything, the order is split: each warehouse in turn, nearest first, ships what it has of
   what is still missing;
4. what no warehouse has stays unallocated (``Allocation.shortages``).

``WarehouseAllocator.allocate(orders, areas, stock)`` decides a batch: stock taken and deliveries counted
against capacity by one order are gone for the next. Every step is explained with a ``Message``.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .messages import Message, _lt, listing, money, plain

ALLOCATION_REGION = _lt("%(destination)s is in %(region)s: warehouses %(warehouses)s first.")
ALLOCATION_NO_REGION = _lt("No region lists %(destination)s: warehouses by cost.")
ALLOCATION_NOT_FOR_SHOP = _lt("%(warehouse)s does not ship for shop %(shop)s.")
ALLOCATION_FULL = _lt("%(warehouse)s has used its capacity of %(capacity)s deliveries today.")
ALLOCATION_SHORT = _lt("%(warehouse)s lacks %(items)s.")
ALLOCATION_WHOLE = _lt("%(warehouse)s ships the whole order (cost %(cost)s).")
ALLOCATION_PART = _lt("%(warehouse)s ships %(items)s.")
ALLOCATION_SPLIT = _lt("No warehouse has every item: split between %(warehouses)s.")
ALLOCATION_UNALLOCATED = _lt("No warehouse has %(items)s.")

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RegionPriority:
    """One row of the region-to-warehouse table: ``warehouses`` (keys) nearest first."""

    region: object  # cn_regions.RegionSet
    warehouses: tuple


@dataclass(frozen=True, slots=True)
class AllocationPart:
    warehouse: object  # key
    lines: tuple  # ((line key, Decimal quantity), …)


@dataclass(slots=True)
class Allocation:
    order_key: object
    parts: list = field(default_factory=list)
    shortages: list = field(default_factory=list)  # [(line key, Decimal quantity no warehouse has)]
    explanation: list = field(default_factory=list)  # Messages, in the order of the decision

    @property
    def split(self):
        return len(self.parts) > 1

    @property
    def complete(self):
        return bool(self.parts) and not self.shortages

    def to_data(self):
        return {
            "order": self.order_key,
            "parts": [
                {"warehouse": part.warehouse, "lines": [[line, plain(quantity)] for line, quantity in part.lines]}
                for part in self.parts
            ],
            "shortages": [[line, plain(quantity)] for line, quantity in self.shortages],
            "explanation": [message.to_data() for message in self.explanation],
        }


class WarehouseAllocator:
    def __init__(self, warehouses, priorities=()):
        self.warehouses = {warehouse.key: warehouse for warehouse in warehouses}
        self.priorities = tuple(priorities)

    def allocate(self, orders, areas, stock):
        """Allocate ``orders`` (oldest first) to warehouses; ``areas`` maps order key → cn_regions.Area.

        ``stock`` (orders.StockBook) is taken from as orders are allocated: pass a copy to keep the original.
        """
        planned = {key: 0 for key in self.warehouses}
        return [self._allocate_one(order, areas[order.key], stock, planned) for order in orders]

    def ranked(self, area):
        """(warehouses nearest first, Message saying why)."""
        by_cost = sorted(self.warehouses.values(), key=lambda warehouse: (warehouse.cost, str(warehouse.key)))
        for priority in self.priorities:
            if area in priority.region:
                listed = [self.warehouses[key] for key in priority.warehouses if key in self.warehouses]
                rest = [warehouse for warehouse in by_cost if warehouse.key not in priority.warehouses]
                args = {"destination": area.label, "region": priority.region.name,
                        "warehouses": listing(warehouse.name for warehouse in listed)}
                return listed + rest, Message("allocation.region", ALLOCATION_REGION, args)
        return by_cost, Message("allocation.no_region", ALLOCATION_NO_REGION, {"destination": area.label})

    def _allocate_one(self, order, area, stock, planned):
        ranked, why = self.ranked(area)
        allocation = Allocation(order.key, explanation=[why])
        usable = [warehouse for warehouse in ranked if self._usable(warehouse, order, planned, allocation)]
        missing = {line.key: line.quantity for line in order.lines}
        whole = self._first_with_everything(usable, order, stock, allocation)
        if whole is not None:
            args = {"warehouse": whole.name, "cost": money(whole.cost)}
            allocation.explanation.append(Message("allocation.whole", ALLOCATION_WHOLE, args))
            self._ship(whole, order, missing, stock, planned, allocation)
        else:
            for warehouse in usable:
                if any(missing.values()):
                    self._ship(warehouse, order, missing, stock, planned, allocation)
            if allocation.split:
                names = listing(self.warehouses[part.warehouse].name for part in allocation.parts)
                allocation.explanation.append(Message("allocation.split", ALLOCATION_SPLIT, {"warehouses": names}))
        allocation.shortages = [(key, quantity) for key, quantity in missing.items() if quantity > 0]
        if allocation.shortages:
            items = describe(order, allocation.shortages)
            allocation.explanation.append(Message("allocation.unallocated", ALLOCATION_UNALLOCATED, {"items": items}))
        return allocation

    def _usable(self, warehouse, order, planned, allocation):
        if not warehouse.serves(order.shop):
            args = {"warehouse": warehouse.name, "shop": order.shop}
            allocation.explanation.append(Message("allocation.not_for_shop", ALLOCATION_NOT_FOR_SHOP, args))
            return False
        capacity = warehouse.daily_capacity
        if capacity is not None and warehouse.shipped_today + planned[warehouse.key] >= capacity:
            args = {"warehouse": warehouse.name, "capacity": capacity}
            allocation.explanation.append(Message("allocation.full", ALLOCATION_FULL, args))
            return False
        return True

    def _first_with_everything(self, usable, order, stock, allocation):
        demand = order.demand()
        for warehouse in usable:
            lacking = [
                (product, wanted - stock.available(warehouse.key, product))
                for product, wanted in demand.items()
                if stock.available(warehouse.key, product) < wanted
            ]
            if not lacking:
                return warehouse
            labels = {line.product: line.label for line in order.lines}
            items = listing(f"{labels[product]} ×{plain(quantity)}" for product, quantity in lacking)
            args = {"warehouse": warehouse.name, "items": items}
            allocation.explanation.append(Message("allocation.short", ALLOCATION_SHORT, args))
        return None

    def _ship(self, warehouse, order, missing, stock, planned, allocation):
        """Take from ``warehouse`` what it has of the ``missing`` quantities (line key → quantity)."""
        shipped = []
        for line in order.lines:
            quantity = min(missing[line.key], max(stock.available(warehouse.key, line.product), ZERO))
            if quantity > 0:
                stock.take(warehouse.key, line.product, quantity)
                missing[line.key] -= quantity
                shipped.append((line.key, quantity))
        if not shipped:
            return
        allocation.parts.append(AllocationPart(warehouse.key, tuple(shipped)))
        planned[warehouse.key] += 1
        if len(shipped) < len(order.lines) or any(missing.values()):
            args = {"warehouse": warehouse.name, "items": describe(order, shipped)}
            allocation.explanation.append(Message("allocation.part", ALLOCATION_PART, args))


def describe(order, line_quantities):
    labels = {line.key: line.label for line in order.lines}
    return listing(f"{labels[key]} ×{plain(quantity)}" for key, quantity in line_quantities)
