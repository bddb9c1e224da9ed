"""The life cycle of a shipment (``stock.picking.logistics_state``), without the ORM.

Warehouse steps move one at a time; carrier-reported steps may jump forward, because a carrier can
report a parcel delivered before Odoo saw it in transit.
"""

TO_ROUTE = "to_route"
ROUTED = "routed"
WAYBILL_ISSUED = "waybill_issued"
PRINTED = "printed"
HANDED_OVER = "handed_over"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
EXCEPTION = "exception"
RETURNED = "returned"
CANCELLED = "cancelled"

STATES = (
    TO_ROUTE,
    ROUTED,
    WAYBILL_ISSUED,
    PRINTED,
    HANDED_OVER,
    IN_TRANSIT,
    OUT_FOR_DELIVERY,
    DELIVERED,
    EXCEPTION,
    RETURNED,
    CANCELLED,
)

# States in which the parcel is with the carrier.
CARRIER_STATES = (HANDED_OVER, IN_TRANSIT, OUT_FOR_DELIVERY, EXCEPTION)

TRANSITIONS = {
    TO_ROUTE: {ROUTED, EXCEPTION, CANCELLED},
    ROUTED: {TO_ROUTE, WAYBILL_ISSUED, EXCEPTION, CANCELLED},
    # Cancelling a waybill sends the shipment back to ROUTED.
    WAYBILL_ISSUED: {ROUTED, PRINTED, HANDED_OVER, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, EXCEPTION, CANCELLED},
    PRINTED: {ROUTED, HANDED_OVER, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, EXCEPTION, CANCELLED},
    HANDED_OVER: {IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, EXCEPTION, RETURNED},
    IN_TRANSIT: {OUT_FOR_DELIVERY, DELIVERED, EXCEPTION, RETURNED},
    # A failed attempt can put the parcel back in transit (redelivery from the depot).
    OUT_FOR_DELIVERY: {IN_TRANSIT, DELIVERED, EXCEPTION, RETURNED},
    # A parcel refused after signing comes back as a return.
    DELIVERED: {RETURNED},
    # An exception is resolved by the carrier moving on, or by shipping again.
    EXCEPTION: {ROUTED, HANDED_OVER, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, RETURNED, CANCELLED},
    RETURNED: set(),
    CANCELLED: {TO_ROUTE},
}


class IllegalTransition(ValueError):
    def __init__(self, current, target):
        super().__init__(f"{current} -> {target}")
        self.current = current
        self.target = target


def can_transition(current, target):
    if target not in TRANSITIONS:
        return False
    if current is None:
        return target == TO_ROUTE
    return target in TRANSITIONS.get(current, ())


def check_transition(current, target):
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
