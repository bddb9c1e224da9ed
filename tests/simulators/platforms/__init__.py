"""Local simulators of the shop platforms' open APIs (real HTTP on loopback), after
/work/shared/reference/platform-apis.md.

``make_simulator(code, **kwargs)`` builds one; ``SIMULATORS`` maps each platform code to its class.
Common interface (base.PlatformSimulator): start()/stop()/base_url, add_order, generate_orders,
update_order, advance, push, tamper_next_push, duplicate_next_push, inject, expire_token,
requests, shipments, pushes, orders (id as str → native order), decrypt_log; the HTTP control
endpoints under ``/__sim__/`` do the same for other processes. Each module's docstring says what
that platform serves, how it authenticates and pushes, and which UNCONFIRMED choices it makes.
"""

from .douyin import DouyinSimulator
from .jd import JdSimulator
from .kuaishou import KuaishouSimulator
from .pinduoduo import PinduoduoSimulator
from .shopify import ShopifySimulator
from .taobao import TaobaoSimulator, TmallSimulator
from .woocommerce import WooCommerceSimulator
from .youzan import YouzanSimulator

SIMULATORS = {
    simulator.code: simulator
    for simulator in (TaobaoSimulator, TmallSimulator, PinduoduoSimulator, DouyinSimulator, JdSimulator,
                      KuaishouSimulator, YouzanSimulator, ShopifySimulator, WooCommerceSimulator)
}


def make_simulator(code, **kwargs):
    try:
        simulator_class = SIMULATORS[code]
    except KeyError:
        raise ValueError(f"no simulator for {code!r}; known: {', '.join(SIMULATORS)}") from None
    return simulator_class(**kwargs)
