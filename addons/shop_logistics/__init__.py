from . import controllers
from . import models


def _enter_open_deliveries_in_the_flow(env):
    """Deliveries still open at install time start the shipment life cycle; finished ones keep no state."""
    open_deliveries = env["stock.picking"].search(
        [("picking_type_code", "=", "outgoing"), ("state", "not in", ("done", "cancel")), ("logistics_state", "=", False)]
    )
    open_deliveries.write({"logistics_state": "to_route"})
