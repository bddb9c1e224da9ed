"""The audit, merge/split, allocation and routing engines: plain Python over plain data, no ORM.

Nothing here imports Odoo. The models read their records in batches, turn them into the dataclasses below,
call an engine and write its decisions back. Decisions explain themselves with ``messages.Message``
(a stable ``code``, an English ``template`` with ``%(name)s`` placeholders, JSON-ready ``args``) and have a
JSON-ready ``to_data()``. Keys (order, line, product, warehouse, carrier account, rule) are whatever the
caller uses, database ids in Odoo; money, quantities and weights are ``Decimal``.

In (``orders``): ``Order`` (shop, platform, buyer, receiver, mobile, ``Address``, ``OrderLine`` tuple, paid_at,
remark and its tag codes, platform risk flags, masked-contact flag and address key, printed), ``OrderLine``
(product, quantity, amount, unit weight and volume, category, tags such as fresh/fragile), ``Warehouse``
(daily capacity, shipped today, cost, shops) and ``StockBook`` ((warehouse, product) → quantity).
``cn_regions.load_divisions()`` resolves addresses to ``Area`` (adcodes and names) and builds ``RegionSet``.

A batch of orders goes through:

1. ``audit.AuditEngine(rules).audit(orders, AuditContext(stock, warehouses, recent_orders))`` → one
   ``AuditDecision`` per order: ``approved``, ``holds`` (reason code of ``logistics.order.hold``, rule key,
   message), ``notes``, ``passed`` and the resolved ``area``. Rules come from ``audit.make_rule(kind, **fields)``.
2. ``merge_split.propose_merges(orders)`` → ``MergeProposal`` (order keys, total, message);
   ``merge_split.merge_orders(group)`` makes one order of a group, each line keeping its ``order_key``.
3. ``allocation.WarehouseAllocator(warehouses, priorities).allocate(orders, areas, stock)`` → one
   ``Allocation`` per order: ``parts`` (warehouse, ((line key, quantity), …)), ``shortages``, ``explanation``.
4. ``merge_split.split_order(order, allocation)`` → ``SplitPlan``: ``Delivery`` objects (warehouse, shipping
   class, ``DeliveryLine`` with order, line, quantity and amount to the cent, weight, volume, value, tags).
5. ``routing.RoutingEngine(rules, carriers, mode).route_many(shipments)`` with
   ``routing.Shipment.from_delivery(key, delivery, order, area)`` → ``RoutingDecision``: ``rule``, ``carrier``,
   ``service_type``, ``label_template``, ``cost`` (``rate_card.RateCard`` price) and ``quote``, ``reason``,
   ``skipped`` (each rule tried, with why), ``alternatives`` (other carriers and their price).
"""

from . import allocation, audit, cn_regions, merge_split, messages, mobile, orders, rate_card, routing

__all__ = ["allocation", "audit", "cn_regions", "merge_split", "messages", "mobile", "orders", "rate_card", "routing"]
