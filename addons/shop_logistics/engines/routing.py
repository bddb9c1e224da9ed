"""Carrier routing: the carrier account, service and label template of a delivery, and why.

Rules (``RoutingRule``) are tried by ``sequence``. A rule matches when every condition it sets holds (an unset
condition holds for all): destination in one of its region sets and in none of its excluded ones; weight and
volume above the minimum and up to the maximum; declared value likewise; an item of one of its categories or
tags (fresh, fragile, high_value); the shop; the platform; a remark tag of the buyer (``require_sf`` …); the
ship date within its validity (seasonal rules, 618). Then its carrier account must be usable for this
delivery: active, allowed by the buyer's remark tags (指定顺丰 → only SF; 不要发韵达 → no Yunda, see
``CarrierTag``), delivering to the destination and taking the weight, according to its rate card.

Modes: ``first_match`` (default), the first matching rule wins; ``cheapest``, every rule is tried and the
matching one whose carrier quotes the lowest freight wins (equal prices: the earlier rule).

``RoutingDecision`` says which rule matched, each rule tried before it (all of them in cheapest mode) with
the reason it was skipped, the expected cost (``Quote`` of the rate card) and the cost of the other carriers
that could take the delivery. ``to_data()`` is JSON-ready for a model to store; the messages are
``messages.Message`` (translatable templates with their arguments).

Speed: while routing, a skipped rule is remembered by the condition it failed, an object of the rule built
once; the messages are made from it when the explanation is read (``skipped``, ``to_data``). Routing a batch
therefore creates almost nothing per rule, which keeps it fast and the garbage collector idle.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from .messages import Message, _lt, listing, money, plain

FIRST_MATCH = "first_match"
CHEAPEST = "cheapest"

REQUIRED = "carrier_required"
EXCLUDED = "carrier_excluded"

ZERO = Decimal(0)

ROUTE_MATCHED = _lt("Rule %(rule)s matched: %(carrier)s.")
ROUTE_MATCHED_CHEAPEST = _lt("Rule %(rule)s matched with the lowest price: %(carrier)s.")
ROUTE_NO_RULE = _lt("No routing rule matched the delivery to %(destination)s: route it by hand.")
SKIP_NOT_YET_VALID = _lt("Valid from %(date)s.")
SKIP_EXPIRED = _lt("Valid until %(date)s.")
SKIP_REGION = _lt("Destination not in %(regions)s.")
SKIP_EXCLUDED_REGION = _lt("Destination in %(region)s, which the rule excludes.")
SKIP_WEIGHT_LOW = _lt("Weight not above %(limit)s kg.")
SKIP_WEIGHT_HIGH = _lt("Weight above %(limit)s kg.")
SKIP_VOLUME_LOW = _lt("Volume not above %(limit)s cm³.")
SKIP_VOLUME_HIGH = _lt("Volume above %(limit)s cm³.")
SKIP_VALUE_LOW = _lt("Value not above %(limit)s.")
SKIP_VALUE_HIGH = _lt("Value above %(limit)s.")
SKIP_CATEGORY = _lt("No item of category %(categories)s.")
SKIP_TAGS = _lt("No item tagged %(tags)s.")
SKIP_SHOP = _lt("Shop not one of %(shops)s.")
SKIP_PLATFORM = _lt("Platform not one of %(platforms)s.")
SKIP_REMARK_TAGS = _lt("The buyer's remark has none of %(tags)s.")
SKIP_CARRIER_UNAVAILABLE = _lt("Carrier account %(carrier)s is not available.")
SKIP_BUYER_EXCLUDED = _lt("The buyer asked not to ship with %(express)s.")
SKIP_BUYER_REQUIRED = _lt("The buyer asked for %(express)s.")
SKIP_NOT_SERVED = _lt("%(carrier)s does not deliver to %(destination)s.")
SKIP_TOO_HEAVY = _lt("%(carrier)s takes parcels up to %(limit)s kg.")
SKIP_DEARER = _lt("Matched, but %(carrier)s costs %(cost)s, more than %(best)s with %(best_carrier)s.")
SKIP_SAME_PRICE = _lt("Matched, at the same price (%(cost)s) as rule %(best_rule)s, which comes first.")
SKIP_UNPRICED = _lt("Matched, but %(carrier)s has no rate card to compare its price.")


@dataclass(frozen=True, slots=True)
class CarrierAccount:
    key: object
    express_code: str  # SF, ZTO, YTO, YD, JD, EMS …
    name: str
    rate_card: object = None  # rate_card.RateCard; None: no price known
    active: bool = True


@dataclass(frozen=True, slots=True)
class CarrierTag:
    """What a remark tag (logistics.remark.tag) says about carriers: its kind and express code."""

    kind: str  # REQUIRED or EXCLUDED
    express_code: str


# The remark tags shipped in data/logistics_remark_tag_data.xml.
DEFAULT_CARRIER_TAGS = {
    "require_sf": CarrierTag(REQUIRED, "SF"),
    "require_jd": CarrierTag(REQUIRED, "JD"),
    "require_ems": CarrierTag(REQUIRED, "EMS"),
    "exclude_yd": CarrierTag(EXCLUDED, "YD"),
    "exclude_zto": CarrierTag(EXCLUDED, "ZTO"),
}


@dataclass(frozen=True, slots=True)
class Shipment:
    """One delivery to route."""

    key: object
    area: object  # cn_regions.Area
    weight_kg: Decimal
    volume_cm3: Decimal = ZERO
    value: Decimal = ZERO
    categories: frozenset = frozenset()
    tags: frozenset = frozenset()
    shop: str = ""
    platform: str = ""
    remark_tags: frozenset = frozenset()
    ship_date: date | None = None  # None: the engine's today

    @classmethod
    def from_delivery(cls, key, delivery, order, area, ship_date=None):
        """The shipment of a ``merge_split.Delivery`` of ``order``."""
        return cls(
            key=key, area=area, weight_kg=delivery.weight_kg, volume_cm3=delivery.volume_cm3,
            value=delivery.value, categories=delivery.categories, tags=delivery.tags, shop=order.shop,
            platform=order.platform, remark_tags=order.remark_tags, ship_date=ship_date,
        )


@dataclass(frozen=True, kw_only=True)
class RoutingRule:
    key: object
    name: str
    carrier: object  # CarrierAccount key
    sequence: int = 10
    service_type: str = ""  # the carrier's product (顺丰标快, 特快 …), passed on to the waybill
    label_template: str = ""
    regions: tuple = ()  # cn_regions.RegionSet: the destination must be in one of them
    excluded_regions: tuple = ()
    min_weight_kg: Decimal | None = None  # above it
    max_weight_kg: Decimal | None = None  # up to and including it
    min_volume_cm3: Decimal | None = None
    max_volume_cm3: Decimal | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    categories: frozenset = frozenset()
    tags: frozenset = frozenset()
    shops: frozenset = frozenset()
    platforms: frozenset = frozenset()
    remark_tags: frozenset = frozenset()
    valid_from: date | None = None  # inclusive
    valid_to: date | None = None  # inclusive
    active: bool = True


class SkippedRule(NamedTuple):
    rule: object
    name: str
    reason: Message

    def to_data(self):
        """The reason's message data (see messages.Message.to_data) with the rule's key and name."""
        return self.reason.to_data(rule=self.rule, name=self.name)


class Alternative(NamedTuple):
    carrier: object
    name: str
    cost: Decimal

    def to_data(self):
        return {"carrier": self.carrier, "name": self.name, "cost": money(self.cost)}


# -- conditions: ``holds`` decides, ``reason`` explains a miss ----------------------------------------------
# A miss is explained by the rule's own limits (the delivery's destination, weight … are shown once, in the
# decision), so each condition makes its message, and its entry in ``to_data()["skipped"]``, once: every
# delivery that misses it shares them.


class Condition:
    __slots__ = ("_entry", "message", "rule")

    def holds(self, shipment, day):
        raise NotImplementedError

    def reason(self, shipment, day):
        return self.message

    def entry(self, shipment, day):
        """The JSON-ready entry of the skipped rule: the reason's data with the rule's key and name."""
        try:
            return self._entry
        except AttributeError:
            self._entry = self.reason(shipment, day).to_data(rule=self.rule.key, name=self.rule.name)
            return self._entry


class PerDeliveryCondition(Condition):
    """A condition whose reason depends on the delivery: its entry is made for each one."""

    __slots__ = ()

    def entry(self, shipment, day):
        return self.reason(shipment, day).to_data(rule=self.rule.key, name=self.rule.name)


class ValidFrom(Condition):
    __slots__ = ("start",)

    def __init__(self, start):
        self.start = start
        self.message = Message("route.not_yet_valid", SKIP_NOT_YET_VALID, {"date": start.isoformat()})

    def holds(self, shipment, day):
        return day >= self.start


class ValidUntil(Condition):
    __slots__ = ("end",)

    def __init__(self, end):
        self.end = end
        self.message = Message("route.expired", SKIP_EXPIRED, {"date": end.isoformat()})

    def holds(self, shipment, day):
        return day <= self.end


class OneOf(Condition):
    """The shipment's shop (or platform) is one of the rule's."""

    __slots__ = ("attribute", "allowed")

    def __init__(self, attribute, allowed, code, template):
        self.attribute = attribute
        self.allowed = frozenset(allowed)
        self.message = Message(code, template, {attribute + "s": listing(sorted(self.allowed))})

    def holds(self, shipment, day):
        return getattr(shipment, self.attribute) in self.allowed


class InRegions(Condition):
    __slots__ = ("regions",)

    def __init__(self, regions):
        self.regions = tuple(regions)
        self.message = Message("route.region", SKIP_REGION, {"regions": listing(r.name for r in self.regions)})

    def holds(self, shipment, day):
        area = shipment.area
        for region in self.regions:
            if area in region:
                return True
        return False


class OutsideRegions(PerDeliveryCondition):
    __slots__ = ("messages", "regions")

    def __init__(self, regions):
        self.regions = tuple(regions)
        self.messages = {
            region.name: Message("route.excluded_region", SKIP_EXCLUDED_REGION, {"region": region.name})
            for region in self.regions
        }

    def holds(self, shipment, day):
        area = shipment.area
        for region in self.regions:
            if area in region:
                return False
        return True

    def reason(self, shipment, day):
        return next(self.messages[region.name] for region in self.regions if shipment.area in region)


class Above(Condition):
    """A measure of the shipment (weight_kg, volume_cm3, value) is above the rule's minimum."""

    __slots__ = ("attribute", "limit")

    def __init__(self, attribute, limit, code, template):
        self.attribute = attribute
        self.limit = Decimal(limit)
        self.message = Message(code, template, {"limit": plain(self.limit)})

    def holds(self, shipment, day):
        return getattr(shipment, self.attribute) > self.limit


class UpTo(Above):
    """A measure of the shipment is at most the rule's maximum."""

    __slots__ = ()

    def holds(self, shipment, day):
        return getattr(shipment, self.attribute) <= self.limit


class SharesAny(Condition):
    """The shipment has one of the rule's categories, tags or remark tags."""

    __slots__ = ("attribute", "wanted")

    def __init__(self, attribute, wanted, argument, code, template):
        self.attribute = attribute
        self.wanted = frozenset(wanted)
        self.message = Message(code, template, {argument: listing(sorted(self.wanted))})

    def holds(self, shipment, day):
        return not self.wanted.isdisjoint(getattr(shipment, self.attribute))


class Refusal(PerDeliveryCondition):
    """A miss explained while routing: the rule's carrier refused the delivery."""

    __slots__ = ()

    def __init__(self, rule, message):
        self.rule = rule
        self.message = message


class Outpriced(PerDeliveryCondition):
    """In cheapest mode: the rule matched, but the rule ``best`` has a cheaper carrier (or the same price and
    comes first)."""

    __slots__ = ("best", "best_carrier", "best_cost", "carrier", "cost")

    def __init__(self, rule, carrier, cost, best, best_carrier, best_cost):
        self.rule = rule
        self.carrier = carrier
        self.cost = cost
        self.best = best
        self.best_carrier = best_carrier
        self.best_cost = best_cost

    def reason(self, shipment, day):
        if self.cost is None:
            return Message("route.unpriced", SKIP_UNPRICED, {"carrier": self.carrier})
        if self.cost == self.best_cost:
            args = {"cost": money(self.cost), "best_rule": self.best.name}
            return Message("route.same_price", SKIP_SAME_PRICE, args)
        args = {"carrier": self.carrier, "cost": money(self.cost), "best": money(self.best_cost),
                "best_carrier": self.best_carrier}
        return Message("route.dearer", SKIP_DEARER, args)


def conditions_of(rule):
    """The conditions ``rule`` sets, the cheapest to test first."""
    conditions = []
    if rule.valid_from is not None:
        conditions.append(ValidFrom(rule.valid_from))
    if rule.valid_to is not None:
        conditions.append(ValidUntil(rule.valid_to))
    if rule.shops:
        conditions.append(OneOf("shop", rule.shops, "route.shop", SKIP_SHOP))
    if rule.platforms:
        conditions.append(OneOf("platform", rule.platforms, "route.platform", SKIP_PLATFORM))
    if rule.regions:
        conditions.append(InRegions(rule.regions))
    if rule.excluded_regions:
        conditions.append(OutsideRegions(rule.excluded_regions))
    for attribute, minimum, maximum, code, low, high in (
        ("weight_kg", rule.min_weight_kg, rule.max_weight_kg, "route.weight", SKIP_WEIGHT_LOW, SKIP_WEIGHT_HIGH),
        ("volume_cm3", rule.min_volume_cm3, rule.max_volume_cm3, "route.volume", SKIP_VOLUME_LOW, SKIP_VOLUME_HIGH),
        ("value", rule.min_value, rule.max_value, "route.value", SKIP_VALUE_LOW, SKIP_VALUE_HIGH),
    ):
        if minimum is not None:
            conditions.append(Above(attribute, minimum, code, low))
        if maximum is not None:
            conditions.append(UpTo(attribute, maximum, code, high))
    if rule.categories:
        conditions.append(SharesAny("categories", rule.categories, "categories", "route.category", SKIP_CATEGORY))
    if rule.tags:
        conditions.append(SharesAny("tags", rule.tags, "tags", "route.tags", SKIP_TAGS))
    if rule.remark_tags:
        conditions.append(SharesAny("remark_tags", rule.remark_tags, "tags", "route.remark", SKIP_REMARK_TAGS))
    for condition in conditions:
        condition.rule = rule
    return tuple(conditions)


# -- decisions ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RoutingDecision:
    shipment: Shipment
    day: date
    rule: RoutingRule | None  # the rule that matched; None: route by hand
    carrier: CarrierAccount | None
    cost: Decimal | None  # expected freight of the chosen carrier (None: it has no rate card)
    cheapest: bool  # decided in cheapest mode
    misses: list  # the Condition each skipped rule failed, in rule order; in cheapest mode the dearer matches last
    alternative_costs: dict  # carrier key → expected freight, for the other carriers able to take it
    carrier_names: dict  # carrier key → name, to explain

    @property
    def routed(self):
        return self.rule is not None

    @property
    def service_type(self):
        return self.rule.service_type if self.rule else ""

    @property
    def label_template(self):
        return self.rule.label_template if self.rule else ""

    @property
    def reason(self):
        if self.rule is None:
            return Message("route.no_rule", ROUTE_NO_RULE, {"destination": self.shipment.area.label})
        template = ROUTE_MATCHED_CHEAPEST if self.cheapest else ROUTE_MATCHED
        return Message("route.matched", template, {"rule": self.rule.name, "carrier": self.carrier.name})

    @property
    def skipped(self):
        shipment, day = self.shipment, self.day
        return [SkippedRule(miss.rule.key, miss.rule.name, miss.reason(shipment, day)) for miss in self.misses]

    @property
    def alternatives(self):
        """The other carriers able to take the shipment, cheapest first."""
        found = [Alternative(key, self.carrier_names[key], cost) for key, cost in self.alternative_costs.items()]
        found.sort(key=lambda alternative: alternative.cost)
        return found

    @property
    def quote(self):
        """The chosen carrier's rate_card.Quote, each part of the price shown (None: no rate card)."""
        if self.carrier is None or self.carrier.rate_card is None:
            return None
        shipment = self.shipment
        return self.carrier.rate_card.quote(shipment.weight_kg, shipment.volume_cm3, shipment.area)

    def to_data(self):
        """The decision and its explanation, JSON-ready, for a model to store.

        Entries of ``skipped`` that do not depend on the delivery are shared between decisions: serialise the
        data (Odoo's Json field does), do not change it in place.
        """
        quote = self.quote
        shipment = self.shipment
        return {
            "shipment": shipment.key,
            "destination": shipment.area.label,
            "destination_codes": list(shipment.area.codes),
            "weight_kg": plain(shipment.weight_kg),
            "volume_cm3": plain(shipment.volume_cm3),
            "value": money(shipment.value),
            "ship_date": self.day.isoformat(),
            "routed": self.routed,
            "rule": self.rule.key if self.rule else None,
            "rule_name": self.rule.name if self.rule else "",
            "carrier": self.carrier.key if self.carrier else None,
            "service_type": self.service_type,
            "label_template": self.label_template,
            "cost": money(self.cost) if self.cost is not None else None,
            "quote": quote.to_data() if quote is not None else None,
            "reason": self.reason.to_data(),
            "skipped": [miss.entry(shipment, self.day) for miss in self.misses],
            "alternatives": [alternative.to_data() for alternative in self.alternatives],
        }


class CompiledRule:
    __slots__ = ("rule", "conditions")

    def __init__(self, rule):
        self.rule = rule
        self.conditions = conditions_of(rule)


class RoutingEngine:
    def __init__(self, rules, carriers, mode=FIRST_MATCH, carrier_tags=None, today=None):
        if mode not in (FIRST_MATCH, CHEAPEST):
            raise ValueError(f"unknown routing mode {mode!r}")
        self.mode = mode
        self.carriers = {carrier.key: carrier for carrier in carriers}
        self.carrier_names = {carrier.key: carrier.name for carrier in carriers}
        active = sorted((rule for rule in rules if rule.active), key=lambda rule: rule.sequence)
        self.rules = tuple(CompiledRule(rule) for rule in active)
        self.carrier_tags = DEFAULT_CARRIER_TAGS if carrier_tags is None else carrier_tags
        self.today = today

    def route_many(self, shipments):
        return [self.route(shipment) for shipment in shipments]

    def route(self, shipment):
        day = shipment.ship_date or self.today or date.today()
        buyer = self.buyer_carriers(shipment)
        prices = {}
        misses = []
        matches = []
        cheapest = self.mode == CHEAPEST
        for compiled in self.rules:
            failed = None
            for condition in compiled.conditions:
                if not condition.holds(shipment, day):
                    failed = condition
                    break
            if failed is None:
                refusal = self.carrier_refusal(compiled.rule.carrier, shipment, buyer, prices)
                if refusal is not None:
                    failed = Refusal(compiled.rule, refusal)
            if failed is not None:
                misses.append(failed)
                continue
            matches.append(compiled.rule)
            if not cheapest:
                break
        rule = self.pick(matches, prices, misses) if matches else None
        carrier = self.carriers[rule.carrier] if rule else None
        return RoutingDecision(
            shipment, day, rule, carrier, prices.get(rule.carrier) if rule else None, cheapest, misses,
            self.alternative_costs(shipment, carrier, buyer, prices), self.carrier_names,
        )

    def buyer_carriers(self, shipment):
        """(required express codes, excluded express codes) from the buyer's remark tags."""
        required = set()
        excluded = set()
        for tag in shipment.remark_tags:
            carrier_tag = self.carrier_tags.get(tag)
            if carrier_tag is not None:
                (required if carrier_tag.kind == REQUIRED else excluded).add(carrier_tag.express_code)
        return required, excluded

    def price(self, carrier, shipment, prices):
        """The carrier's expected freight for the shipment, once per shipment (None: no rate card, or no zone)."""
        if carrier.key not in prices:
            card = carrier.rate_card
            prices[carrier.key] = (
                None if card is None else card.price(shipment.weight_kg, shipment.volume_cm3, shipment.area)
            )
        return prices[carrier.key]

    def carrier_refusal(self, carrier_key, shipment, buyer, prices):
        """None when the carrier account can take the shipment, else the Message saying why not."""
        required, excluded = buyer
        carrier = self.carriers.get(carrier_key)
        if carrier is None or not carrier.active:
            return Message("route.carrier_unavailable", SKIP_CARRIER_UNAVAILABLE, {"carrier": str(carrier_key)})
        if carrier.express_code in excluded:
            return Message("route.buyer_excluded", SKIP_BUYER_EXCLUDED, {"express": carrier.express_code})
        if required and carrier.express_code not in required:
            return Message("route.buyer_required", SKIP_BUYER_REQUIRED, {"express": listing(sorted(required))})
        card = carrier.rate_card
        if card is None:
            return None
        if not card.takes(shipment.weight_kg):
            args = {"carrier": carrier.name, "limit": plain(card.max_weight_kg)}
            return Message("route.too_heavy", SKIP_TOO_HEAVY, args)
        if self.price(carrier, shipment, prices) is None:
            args = {"carrier": carrier.name, "destination": shipment.area.label}
            return Message("route.not_served", SKIP_NOT_SERVED, args)
        return None

    def pick(self, matches, prices, misses):
        """The winning rule; in cheapest mode the other matches join the misses with their price."""
        if self.mode == FIRST_MATCH:
            return matches[0]
        priced = [rule for rule in matches if prices.get(rule.carrier) is not None]
        if not priced:
            return matches[0]
        best = min(priced, key=lambda rule: prices[rule.carrier])  # min keeps the earliest of equal prices
        best_carrier = self.carrier_names[best.carrier]
        for rule in matches:
            if rule is not best:
                misses.append(Outpriced(rule, self.carrier_names[rule.carrier], prices.get(rule.carrier), best,
                                        best_carrier, prices[best.carrier]))
        return best

    def alternative_costs(self, shipment, chosen, buyer, prices):
        """Carrier key → expected freight, for every other carrier the buyer allows that can take the shipment."""
        required, excluded = buyer
        costs = {}
        for carrier in self.carriers.values():
            if carrier is chosen or not carrier.active or carrier.rate_card is None:
                continue
            if carrier.express_code in excluded or (required and carrier.express_code not in required):
                continue
            if not carrier.rate_card.takes(shipment.weight_kg):
                continue
            cost = self.price(carrier, shipment, prices)
            if cost is not None:
                costs[carrier.key] = cost
        return costs
