"""Shipment exception rules, without the ORM.

The model feeds :func:`detect` one :class:`Shipment` snapshot at a time (read in batches with plain SQL) and a
:class:`Policy` built once per scan from the configured rules; it gets back the problems found, each with the
moment the problem started (``since``), so that a problem already handled is not raised again.

Kinds of problem (``KINDS``):

* time rules, each with a threshold in hours: ``not_picked_up`` (label printed, no carrier scan),
  ``no_update`` (in transit, no new event), ``stuck_at_hub`` (last scan an arrival at a transfer centre),
  ``not_collected`` (waiting in a locker or parcel station), ``lost`` (no event for a long time) and
  ``overdue`` (past the carrier's expected delivery date);
* problems the carrier reports (the carrier integration maps its own codes to them): ``delivery_failed``,
  ``refused``, ``returned``, ``address_problem``, ``not_collected``, ``lost`` and ``carrier_problem`` (any other).

Silence rules exclude each other (the strongest applies: lost, then stuck at a transfer centre or not collected,
then no update) and give way to a problem the carrier reports; ``overdue`` is independent of both.
"""

from collections import namedtuple
from datetime import datetime, time, timedelta

NOT_PICKED_UP = "not_picked_up"
NO_UPDATE = "no_update"
STUCK_AT_HUB = "stuck_at_hub"
DELIVERY_FAILED = "delivery_failed"
REFUSED = "refused"
RETURNED = "returned"
ADDRESS_PROBLEM = "address_problem"
NOT_COLLECTED = "not_collected"
OVERDUE = "overdue"
LOST = "lost"
CARRIER_PROBLEM = "carrier_problem"

KINDS = (
    NOT_PICKED_UP,
    NO_UPDATE,
    STUCK_AT_HUB,
    DELIVERY_FAILED,
    REFUSED,
    RETURNED,
    ADDRESS_PROBLEM,
    NOT_COLLECTED,
    OVERDUE,
    LOST,
    CARRIER_PROBLEM,
)

# Kinds a carrier can report through its own status codes.
CARRIER_KINDS = (DELIVERY_FAILED, REFUSED, RETURNED, ADDRESS_PROBLEM, NOT_COLLECTED, LOST, CARRIER_PROBLEM)

# Default thresholds in hours (issue #7); a kind without a threshold fires as soon as the carrier reports it.
DEFAULT_THRESHOLDS = {
    NOT_PICKED_UP: 24,
    NO_UPDATE: 48,
    STUCK_AT_HUB: 24,
    NOT_COLLECTED: 24,
    OVERDUE: 0,
    LOST: 168,
}

# Shipment states (stock.picking.logistics_state) the rules look at.
WAITING_FOR_CARRIER = frozenset(("printed", "handed_over"))
WITH_CARRIER = frozenset(("in_transit", "out_for_delivery", "exception"))
RETURNED_STATE = "returned"
SCANNED_STATES = WAITING_FOR_CARRIER | WITH_CARRIER | {RETURNED_STATE}

# Event statuses (logistics.shipment.event.status) that mean the carrier has had the parcel.
PICKUP_POINT = "at_pickup_point"
NOT_A_SCAN = frozenset((None, False, "info"))

# Words of a scan at a transfer centre (转运中心, 分拨中心, 集散中心, 中转场 …), for carriers without a code for it.
HUB_WORDS = ("转运中心", "分拨中心", "集散中心", "中转场", "转运场", "分拣中心", "transfer centre", "transfer center", "hub")
DEPARTURE_WORDS = ("发出", "离开", "发往", "departed", "left")


Shipment = namedtuple(
    "Shipment",
    [
        "id",
        "state",  # logistics_state
        "state_since",  # datetime the state was entered
        "label_printed_at",  # datetime or None
        "last_event_at",  # datetime of the latest track event, or None
        "last_event_status",  # normalised status of that event, or None
        "last_event_at_hub",  # True when that event is an arrival at a transfer centre
        "carrier_problem",  # a CARRIER_KINDS value the carrier reports now, or None
        "expected_date",  # date the carrier expects to deliver, or None
        "carrier_id",  # for per-carrier thresholds
        "company_id",
    ],
)

Problem = namedtuple("Problem", ["kind", "since", "hours"])


def looks_like_transfer_centre(description):
    """Whether a scan's text says the parcel arrived at a transfer centre (and did not leave it)."""
    text = (description or "").casefold()
    if not any(word in text for word in HUB_WORDS):
        return False
    return not any(word in text for word in DEPARTURE_WORDS)


class Policy:
    """The thresholds to apply, from the configured rules.

    ``rules`` are ``(kind, threshold_hours, carrier_id, company_id)``; a rule for the carrier wins over one for
    the company only, which wins over one for every company (see :func:`scope_keys`). A kind without any rule is
    not checked.
    """

    def __init__(self, rules, now, utc_offset=timedelta(0)):
        self.now = now
        # Expected dates are calendar days where the shipments are (e.g. +8 h for China).
        self.utc_offset = utc_offset
        self._rules = {}
        for kind, hours, carrier_id, company_id in rules:
            self._rules[(kind, carrier_id or None, company_id or None)] = float(hours or 0)
        self._kinds = {kind for kind, _carrier, _company in self._rules}
        self._cache = {}

    @classmethod
    def defaults(cls, now, utc_offset=timedelta(0)):
        rules = [(kind, DEFAULT_THRESHOLDS.get(kind, 0), None, None) for kind in KINDS]
        return cls(rules, now, utc_offset)

    def hours(self, kind, carrier_id=None, company_id=None):
        """The threshold of ``kind`` for a carrier and company, or None when the kind is not checked."""
        for key in scope_keys(kind, carrier_id, company_id):
            if key in self._rules:
                return self._rules[key]
        return None

    def cutoffs(self, carrier_id, company_id):
        """``{kind: (moment, hours)}``: a problem of that kind older than ``moment`` is due."""
        key = (carrier_id, company_id)
        found = self._cache.get(key)
        if found is None:
            found = {}
            for kind in self._kinds:
                hours = self.hours(kind, carrier_id, company_id)
                if hours is not None:
                    found[kind] = (self.now - timedelta(hours=hours), hours)
            self._cache[key] = found
        return found


def scope_keys(kind, carrier_id, company_id):
    """The rule scopes that apply to a shipment, the most specific first."""
    return ((kind, carrier_id, company_id), (kind, carrier_id, None), (kind, None, company_id), (kind, None, None))


def detect(shipment, policy):
    """The problems of one shipment now: a list of :class:`Problem` (most often empty)."""
    state = shipment.state
    if state not in SCANNED_STATES:
        return []
    cutoffs = policy.cutoffs(shipment.carrier_id, shipment.company_id)
    problems = []
    if state in WAITING_FOR_CARRIER and shipment.last_event_status in NOT_A_SCAN:
        _due(problems, cutoffs, NOT_PICKED_UP, shipment.label_printed_at or shipment.state_since)
        return problems
    carrier_problem = shipment.carrier_problem or (RETURNED if state == RETURNED_STATE else None)
    if carrier_problem:
        _due(problems, cutoffs, carrier_problem, shipment.last_event_at or shipment.state_since)
    elif state in WITH_CARRIER:
        _silence(problems, shipment, cutoffs)
    if shipment.expected_date and state in WITH_CARRIER:
        _overdue(problems, shipment, cutoffs, policy)
    return problems


def _due(problems, cutoffs, kind, since):
    rule = cutoffs.get(kind)
    if rule is not None and since is not None and since <= rule[0]:
        problems.append(Problem(kind, since, rule[1]))


def _silence(problems, shipment, cutoffs):
    """No news from the carrier: the strongest of lost, not collected / stuck at a hub, no update."""
    since = shipment.last_event_at
    if since is None and shipment.state != "exception":  # a parcel held by hand has no silence to measure
        since = shipment.state_since
    if since is None:
        return
    before = len(problems)
    _due(problems, cutoffs, LOST, since)
    if len(problems) > before:
        return
    if shipment.last_event_status == PICKUP_POINT:
        _due(problems, cutoffs, NOT_COLLECTED, since)
        return
    if shipment.last_event_at_hub:
        _due(problems, cutoffs, STUCK_AT_HUB, since)
        if len(problems) > before:
            return
    _due(problems, cutoffs, NO_UPDATE, since)


def _overdue(problems, shipment, cutoffs, policy):
    rule = cutoffs.get(OVERDUE)
    if rule is None:
        return
    # The expected date is a local calendar day: overdue once that day (plus the threshold) is over there.
    end_of_day = datetime.combine(shipment.expected_date + timedelta(days=1), time.min) - policy.utc_offset
    if policy.now >= end_of_day + timedelta(hours=rule[1]):
        problems.append(Problem(OVERDUE, end_of_day, rule[1]))


def scan(shipments, policy):
    """``{shipment id: [Problem, ...]}`` for the shipments with at least one problem."""
    found = {}
    for shipment in shipments:
        problems = detect(shipment, policy)
        if problems:
            found[shipment.id] = problems
    return found
