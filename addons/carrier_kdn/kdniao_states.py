"""KDNiao State / StateEx / Action codes mapped to our event statuses and shipment states, without the ORM.

Reference §4.3. ``State`` (0-6) is the first digit group of ``StateEx``; pushes of the free tier (101) carry
only ``State``, paid ones (102, 8001) carry ``StateEx`` and per-trace ``Action``.
"""

# code -> (shipment event status, logistics state the shipment moves to, or None to stay)
STATE_EX = {
    "0": ("info", None),
    "1": ("collected", "in_transit"),
    "10": ("info", None),  # waiting for the courier: still in our hands
    "2": ("in_transit", "in_transit"),
    "201": ("in_transit", "in_transit"),
    "202": ("out_for_delivery", "out_for_delivery"),
    "204": ("in_transit", "in_transit"),
    "205": ("in_transit", "in_transit"),
    "206": ("in_transit", "in_transit"),
    "211": ("at_pickup_point", "out_for_delivery"),
    "3": ("delivered", "delivered"),
    "301": ("delivered", "delivered"),
    "302": ("delivered", "delivered"),
    "304": ("delivered", "delivered"),
    "311": ("delivered", "delivered"),
    "4": ("exception", "exception"),
    "401": ("exception", "exception"),
    "402": ("exception", "exception"),
    "403": ("exception", "exception"),
    "404": ("returning", "exception"),
    "405": ("exception", "exception"),
    "406": ("returned", "returned"),
    "407": ("returning", "exception"),
    "412": ("exception", "exception"),
    "413": ("exception", "exception"),
    "414": ("exception", "exception"),
    "415": ("exception", "exception"),
    "416": ("exception", "exception"),
    "417": ("exception", "exception"),
    "418": ("exception", "exception"),
    "419": ("in_transit", "in_transit"),  # re-delivery agreed: the problem is being solved
    "420": ("exception", "exception"),
    "421": ("exception", "exception"),
    "422": ("exception", "exception"),
    "423": ("exception", "exception"),
    "5": ("in_transit", "in_transit"),
    "6": ("in_transit", "in_transit"),
    "601": ("in_transit", "in_transit"),
    "602": ("in_transit", "in_transit"),
    "603": ("in_transit", "in_transit"),
    "604": ("exception", "exception"),
}

# Codes whose exception the clerk must read about; their label is translated in the model layer.
EXCEPTION_CODES = tuple(code for code, (_status, state) in STATE_EX.items() if state == "exception")


def normalise_code(state_ex=None, state=None):
    """The most detailed known code of a push or query answer."""
    for code in (state_ex, state):
        code = str(code).strip() if code not in (None, "") else ""
        if code in STATE_EX:
            return code
        if code and code[0] in STATE_EX:  # an unknown detail code falls back to its group
            return code[0]
    return "0"


def event_status(code):
    return STATE_EX.get(normalise_code(code), ("info", None))[0]


def target_state(code):
    return STATE_EX.get(normalise_code(code), ("info", None))[1]


# StateEx / Action codes -> the kind of problem they report (shop_logistics.exception_rules.KINDS), from KDNiao's
# 物流状态 table (reference §4.3). Codes not listed report no problem (419: re-delivery agreed, the problem is
# being solved).
PROBLEM_KINDS = {
    "4": "carrier_problem",  # 问题件, no detail
    "401": "carrier_problem",  # 发货无信息: no trace after shipping
    "402": "delivery_failed",  # 超时未签收: out for delivery > 36 h without signature
    # 403 超时未更新 (no trace for 5 days) is left to our own silence rules (no update, transfer centre, lost),
    # whose thresholds are configurable and come earlier.
    "404": "refused",  # 拒收(退件)
    "405": "delivery_failed",  # 派件异常
    "406": "returned",  # 退货签收: back with the sender
    "407": "returned",  # 退货未签收
    "412": "not_collected",  # 快递柜或驿站超时未取
    "413": "carrier_problem",  # 单号已拦截: intercepted
    "414": "carrier_problem",  # 破损: damaged
    "415": "carrier_problem",  # 客户取消发货
    "416": "delivery_failed",  # 无法联系: receiver unreachable
    "417": "carrier_problem",  # 配送延迟
    "418": "carrier_problem",  # 快件取出: taken out of the locker by the courier
    "420": "address_problem",  # 收货地址不详细
    "421": "address_problem",  # 收件人电话错误: the receiver's contact details are wrong
    "422": "carrier_problem",  # 错分件: mis-sorted
    "423": "address_problem",  # 超区件: outside the delivery area
    "604": "carrier_problem",  # 清关异常
}

# Arrival scans at a transfer centre (到达转运中心); 201 (到达派件城市) is the arrival at the destination city's hub.
TRANSFER_CENTRE_CODES = frozenset(("204", "201"))


def problem_kind(code):
    """The kind of problem a code reports, or False."""
    if code in (None, ""):
        return False
    return PROBLEM_KINDS.get(normalise_code(code), False)
