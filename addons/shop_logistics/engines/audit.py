"""Order audit: ordered, configurable rules that approve an order or hold it with a reason a clerk understands.

``AuditEngine(rules).audit(orders, context)`` returns one ``AuditDecision`` per order, in the order given.
An order that no rule holds is approved. Rules run by ``sequence``; every rule runs (the clerk sees all that
is wrong at once) unless a holding rule has ``stop=True``. Each hold carries the reason code of
``logistics.order.hold`` (address, phone, duplicate, stock, threshold, blacklist, remark, risk), the key of
the rule and a ``Message``.

Within a batch the orders are taken in payment order, oldest first: stock reserved by an approved order is
no longer there for the next one, and of two duplicates the later one is held.

The Odoo layer builds the rules from its records with ``make_rule(kind, **fields)`` and the context from the
database: stock per warehouse and product, the warehouses, and the orders of the duplicate window.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from . import mobile
from .cn_regions import AreaNotResolved, ChinaDivisions, clean, load_divisions
from .messages import Message, _lt, listing, money, plain
from .orders import StockBook, normalise_text

HOLD_ADDRESS = "address"
HOLD_PHONE = "phone"
HOLD_DUPLICATE = "duplicate"
HOLD_STOCK = "stock"
HOLD_THRESHOLD = "threshold"
HOLD_BLACKLIST = "blacklist"
HOLD_REMARK = "remark"
HOLD_RISK = "risk"

AUDIT_APPROVED = _lt("Approved: passed %(rules)s.")
AUDIT_RECEIVER_MISSING = _lt("The receiver's name is missing.")
AUDIT_STREET_MISSING = _lt("The street address is missing.")
AUDIT_PHONE_MISSING = _lt("The receiver's mobile number is missing.")
AUDIT_PHONE_INVALID = _lt("%(phone)s is not a valid mobile number.")
AUDIT_PHONE_LANDLINE = _lt("%(phone)s is a landline: the courier cannot text the pickup code to it.")
AUDIT_PHONE_VIRTUAL = _lt("%(phone)s belongs to a virtual operator (%(prefix)s): check the buyer.")
AUDIT_PHONE_MASKED = _lt("%(phone)s is masked and this shop does not give the real number to the carrier.")
AUDIT_PHONE_MASKED_NOTE = _lt("Mobile number masked by the platform: not checked.")
AUDIT_PHONE_PRIVACY_NOTE = _lt("Platform privacy number with extension %(extension)s.")
AUDIT_DUPLICATE = _lt("Same buyer, address and items as %(other)s, paid %(minutes)s minutes earlier.")
AUDIT_DUPLICATE_UNTIMED = _lt("Same buyer, address and items as %(other)s.")
AUDIT_NO_WAREHOUSE = _lt("No active warehouse ships for shop %(shop)s.")
AUDIT_STOCK_SHORT = _lt("Not enough stock in the warehouses of shop %(shop)s: %(items)s.")
AUDIT_STOCK_NOT_IN_ONE = _lt("No single warehouse has every item, and this shop does not split orders.")
AUDIT_AMOUNT_ABOVE = _lt("Amount %(amount)s is above the limit of %(limit)s.")
AUDIT_QUANTITY_ABOVE = _lt("%(quantity)s items are above the limit of %(limit)s.")
AUDIT_BLACKLIST_BUYER = _lt("Buyer %(buyer)s is on the blacklist.")
AUDIT_BLACKLIST_BUYER_NOTE = _lt("Buyer %(buyer)s is on the blacklist: %(note)s")
AUDIT_BLACKLIST_MOBILE = _lt("Mobile number %(phone)s is on the blacklist.")
AUDIT_BLACKLIST_MOBILE_NOTE = _lt("Mobile number %(phone)s is on the blacklist: %(note)s")
AUDIT_BLACKLIST_ADDRESS = _lt("The address matches %(entry)s on the blacklist.")
AUDIT_BLACKLIST_ADDRESS_NOTE = _lt("The address matches %(entry)s on the blacklist: %(note)s")
AUDIT_REMARK_REVIEW = _lt("The buyer's remark needs a person (%(tags)s): %(remark)s")
AUDIT_REMARK_UNRECOGNISED = _lt("The buyer's remark was not recognised: %(remark)s")
AUDIT_RISK_FLAGS = _lt("The platform flagged the order: %(flags)s.")


@dataclass(frozen=True, slots=True)
class Hold:
    reason: str  # logistics.order.hold reason
    rule: str  # key of the rule that held
    message: Message

    def to_data(self):
        return {"reason": self.reason, "rule": self.rule, "message": self.message.to_data()}


@dataclass(slots=True)
class AuditDecision:
    order_key: object
    holds: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # Messages of things checked that hold nothing
    passed: list = field(default_factory=list)  # keys of the rules passed
    area: object = None  # the resolved cn_regions.Area, when an address rule ran and resolved it

    @property
    def approved(self):
        return not self.holds

    @property
    def message(self):
        if self.approved:
            return Message("audit.approved", AUDIT_APPROVED, {"rules": listing(self.passed)})
        return self.holds[0].message

    def to_data(self):
        return {
            "order": self.order_key,
            "approved": self.approved,
            "holds": [hold.to_data() for hold in self.holds],
            "notes": [note.to_data() for note in self.notes],
            "passed": list(self.passed),
            "area": list(self.area.codes) if self.area else [],
        }


@dataclass(kw_only=True)
class AuditContext:
    """What the rules need besides the order, read by the Odoo layer once per batch."""

    divisions: ChinaDivisions = None
    stock: StockBook = field(default_factory=StockBook)
    warehouses: tuple = ()  # orders.Warehouse
    recent_orders: tuple = ()  # orders of the duplicate window already in the database

    def __post_init__(self):
        if self.divisions is None:
            self.divisions = load_divisions()


@dataclass(frozen=True, kw_only=True)
class AuditRule:
    key: str
    sequence: int = 10
    stop: bool = False  # when this rule holds, the rules after it do not run
    reason = ""

    def start(self, orders, context):
        """State for one batch, handed back to ``check`` and ``approved`` (none by default)."""

    def check(self, order, context, decision, state):
        """None when the order passes, else the Message of the hold."""
        raise NotImplementedError

    def approved(self, order, context, state):
        """Called once the order is approved by every rule."""


@dataclass(frozen=True, kw_only=True)
class AddressRule(AuditRule):
    """The receiver and street are given, and province/city/district resolve together (cn_regions)."""

    key: str = "address"
    require_street: bool = True
    reason = HOLD_ADDRESS

    def check(self, order, context, decision, state):
        if not clean(order.receiver):
            return Message("audit.receiver_missing", AUDIT_RECEIVER_MISSING)
        address = order.address
        try:
            decision.area = context.divisions.resolve(address.province, address.city, address.district)
        except AreaNotResolved as error:
            return error.message
        if self.require_street and not clean(address.street):
            return Message("audit.street_missing", AUDIT_STREET_MISSING)
        return None


@dataclass(frozen=True, kw_only=True)
class MobileRule(AuditRule):
    """The receiver's mobile number can be used; see ``mobile`` for the kinds of numbers."""

    key: str = "phone"
    hold_virtual: bool = False
    accept_landline: bool = False
    reason = HOLD_PHONE

    def check(self, order, context, decision, state):
        phone = mobile.check_phone(order.mobile)
        args = {"phone": order.mobile}
        if phone.kind == mobile.MISSING:
            return Message("audit.phone_missing", AUDIT_PHONE_MISSING)
        if phone.kind == mobile.INVALID:
            return Message("audit.phone_invalid", AUDIT_PHONE_INVALID, args)
        if phone.kind == mobile.MASKED:
            if order.contact_masked:
                decision.notes.append(Message("audit.phone_masked_note", AUDIT_PHONE_MASKED_NOTE))
                return None
            return Message("audit.phone_masked", AUDIT_PHONE_MASKED, args)
        if phone.kind == mobile.LANDLINE and not self.accept_landline:
            return Message("audit.phone_landline", AUDIT_PHONE_LANDLINE, args)
        if phone.kind == mobile.VIRTUAL and self.hold_virtual:
            return Message("audit.phone_virtual", AUDIT_PHONE_VIRTUAL, dict(args, prefix=phone.number[:3]))
        if phone.kind == mobile.PRIVACY:
            note = Message("audit.phone_privacy_note", AUDIT_PHONE_PRIVACY_NOTE, {"extension": phone.extension})
            decision.notes.append(note)
        return None


def duplicate_fingerprint(order):
    """Buyer, address and items: what makes two orders the same purchase."""
    address = order.address_key or order.address.fingerprint()
    items = tuple(sorted((str(product), quantity.normalize()) for product, quantity in order.demand().items()))
    return order.buyer, address, items


def paid_before(other, order):
    """Whether ``other`` came first (orders without a payment time count as earliest)."""
    if other.paid_at is None or order.paid_at is None:
        return other.paid_at is None and (order.paid_at is not None or str(other.key) < str(order.key))
    return (other.paid_at, str(other.key)) < (order.paid_at, str(order.key))


@dataclass(frozen=True, kw_only=True)
class DuplicateRule(AuditRule):
    """Holds the later of two orders with the same buyer, address and items paid within ``window``."""

    key: str = "duplicate"
    window: timedelta = timedelta(hours=24)
    reason = HOLD_DUPLICATE

    def start(self, orders, context):
        index = {}
        for order in (*context.recent_orders, *orders):
            index.setdefault(duplicate_fingerprint(order), {})[order.key] = order
        return index

    def check(self, order, context, decision, state):
        for other in state[duplicate_fingerprint(order)].values():
            if other.key == order.key or not paid_before(other, order):
                continue
            if other.paid_at is None or order.paid_at is None:
                return Message("audit.duplicate", AUDIT_DUPLICATE_UNTIMED, {"other": other.name})
            if order.paid_at - other.paid_at <= self.window:
                minutes = int((order.paid_at - other.paid_at).total_seconds() // 60)
                return Message("audit.duplicate", AUDIT_DUPLICATE, {"other": other.name, "minutes": minutes})
        return None


@dataclass(frozen=True, kw_only=True)
class StockRule(AuditRule):
    """Enough stock for every product in the warehouses that ship for the shop, added up (the order may be
    split between them) or, with ``single_warehouse``, in one of them. Approved orders reserve their stock
    for the rest of the batch."""

    key: str = "stock"
    single_warehouse: bool = False
    reason = HOLD_STOCK

    def start(self, orders, context):
        return context.stock.copy()

    def check(self, order, context, decision, state):
        warehouses = eligible_warehouses(order, context)
        if not warehouses:
            return Message("audit.no_warehouse", AUDIT_NO_WAREHOUSE, {"shop": order.shop})
        demand = order.demand()
        short = [
            (product, wanted, state.total(product, warehouses))
            for product, wanted in demand.items()
            if state.total(product, warehouses) < wanted
        ]
        if short:
            labels = product_labels(order)
            items = listing(f"{labels[product]} ×{plain(wanted)} ({plain(have)})" for product, wanted, have in short)
            return Message("audit.stock_short", AUDIT_STOCK_SHORT, {"shop": order.shop, "items": items})
        if self.single_warehouse and not any(
            all(state.available(warehouse, product) >= wanted for product, wanted in demand.items())
            for warehouse in warehouses
        ):
            return Message("audit.stock_not_in_one", AUDIT_STOCK_NOT_IN_ONE)
        return None

    def approved(self, order, context, state):
        warehouses = eligible_warehouses(order, context)
        for product, wanted in order.demand().items():
            for warehouse in warehouses:
                taken = min(wanted, max(state.available(warehouse, product), Decimal(0)))
                state.take(warehouse, product, taken)
                wanted -= taken


def eligible_warehouses(order, context):
    return [warehouse.key for warehouse in context.warehouses if warehouse.serves(order.shop)]


def product_labels(order):
    labels = {}
    for line in order.lines:
        labels.setdefault(line.product, line.label)
    return labels


@dataclass(frozen=True, kw_only=True)
class ThresholdRule(AuditRule):
    """Holds an order above an amount (CNY) or a number of items, for a person to look at."""

    key: str = "threshold"
    max_amount: Decimal | None = None
    max_quantity: Decimal | None = None
    reason = HOLD_THRESHOLD

    def check(self, order, context, decision, state):
        if self.max_amount is not None and order.total > self.max_amount:
            args = {"amount": money(order.total), "limit": money(self.max_amount)}
            return Message("audit.amount_above", AUDIT_AMOUNT_ABOVE, args)
        if self.max_quantity is not None and order.quantity > self.max_quantity:
            args = {"quantity": plain(order.quantity), "limit": plain(self.max_quantity)}
            return Message("audit.quantity_above", AUDIT_QUANTITY_ABOVE, args)
        return None


@dataclass(frozen=True, kw_only=True)
class BlacklistRule(AuditRule):
    """Buyers, mobile numbers and address fragments on the blacklist, each with a note (may be "")."""

    key: str = "blacklist"
    buyers: dict = field(default_factory=dict)
    mobiles: dict = field(default_factory=dict)
    addresses: dict = field(default_factory=dict)
    reason = HOLD_BLACKLIST

    def start(self, orders, context):
        return {
            "mobiles": {mobile.digits_of(number): note for number, note in self.mobiles.items()},
            "addresses": {normalise_text(fragment): (fragment, note) for fragment, note in self.addresses.items()},
        }

    def check(self, order, context, decision, state):
        if order.buyer in self.buyers:
            return blacklist_message("buyer", {"buyer": order.buyer}, self.buyers[order.buyer])
        number = mobile.digits_of(order.mobile)
        if number in state["mobiles"]:
            return blacklist_message("mobile", {"phone": order.mobile}, state["mobiles"][number])
        address = normalise_text(order.address.full)
        for fragment, (entry, note) in state["addresses"].items():
            if fragment and fragment in address:
                return blacklist_message("address", {"entry": entry}, note)
        return None


BLACKLIST_TEMPLATES = {
    "buyer": (AUDIT_BLACKLIST_BUYER, AUDIT_BLACKLIST_BUYER_NOTE),
    "mobile": (AUDIT_BLACKLIST_MOBILE, AUDIT_BLACKLIST_MOBILE_NOTE),
    "address": (AUDIT_BLACKLIST_ADDRESS, AUDIT_BLACKLIST_ADDRESS_NOTE),
}


def blacklist_message(kind, args, note):
    plain_template, noted_template = BLACKLIST_TEMPLATES[kind]
    if note:
        return Message(f"audit.blacklist_{kind}", noted_template, dict(args, note=note))
    return Message(f"audit.blacklist_{kind}", plain_template, args)


@dataclass(frozen=True, kw_only=True)
class RemarkRule(AuditRule):
    """Holds orders whose remark carries a tag that needs a person (改地址, 开发票 … are ``attention``), and with
    ``hold_unrecognised`` every remark that no tag explains."""

    key: str = "remark"
    review_tags: frozenset = frozenset({"attention"})
    hold_unrecognised: bool = False
    reason = HOLD_REMARK

    def check(self, order, context, decision, state):
        remark = (order.remark or "").strip()
        review = sorted(order.remark_tags & self.review_tags)
        if review:
            return Message("audit.remark_review", AUDIT_REMARK_REVIEW, {"tags": listing(review), "remark": remark})
        if self.hold_unrecognised and remark and not order.remark_tags:
            return Message("audit.remark_unrecognised", AUDIT_REMARK_UNRECOGNISED, {"remark": remark})
        return None


@dataclass(frozen=True, kw_only=True)
class RiskRule(AuditRule):
    """Holds orders the platform marked as risky; ``flags`` None holds on any flag."""

    key: str = "risk"
    flags: frozenset | None = None
    reason = HOLD_RISK

    def check(self, order, context, decision, state):
        raised = order.risk_flags if self.flags is None else order.risk_flags & self.flags
        if raised:
            return Message("audit.risk_flags", AUDIT_RISK_FLAGS, {"flags": listing(sorted(raised))})
        return None


RULE_KINDS = {
    HOLD_ADDRESS: AddressRule,
    HOLD_PHONE: MobileRule,
    HOLD_DUPLICATE: DuplicateRule,
    HOLD_STOCK: StockRule,
    HOLD_THRESHOLD: ThresholdRule,
    HOLD_BLACKLIST: BlacklistRule,
    HOLD_REMARK: RemarkRule,
    HOLD_RISK: RiskRule,
}


def make_rule(kind, **fields):
    """The rule of ``kind`` (a hold reason code) with its fields, as a configuration record gives them."""
    return RULE_KINDS[kind](**fields)


def default_rules():
    """Every kind once, in the order a clerk reads them."""
    return [RULE_KINDS[kind](sequence=index * 10) for index, kind in enumerate(RULE_KINDS, start=1)]


class AuditEngine:
    def __init__(self, rules=None):
        rules = default_rules() if rules is None else rules
        self.rules = sorted(rules, key=lambda rule: rule.sequence)

    def audit(self, orders, context=None):
        """One AuditDecision per order, in the order of ``orders``."""
        context = context or AuditContext()
        orders = list(orders)
        states = [rule.start(orders, context) for rule in self.rules]
        decisions = {}
        for order in sorted(orders, key=payment_order):
            decisions[order.key] = self._audit_one(order, context, states)
        return [decisions[order.key] for order in orders]

    def _audit_one(self, order, context, states):
        decision = AuditDecision(order.key)
        for rule, state in zip(self.rules, states):
            message = rule.check(order, context, decision, state)
            if message is None:
                decision.passed.append(rule.key)
                continue
            decision.holds.append(Hold(rule.reason, rule.key, message))
            if rule.stop:
                break
        if decision.approved:
            for rule, state in zip(self.rules, states):
                rule.approved(order, context, state)
        return decision


def payment_order(order):
    return (order.paid_at is not None, order.paid_at or 0, str(order.key))
