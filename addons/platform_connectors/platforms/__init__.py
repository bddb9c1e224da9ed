"""Protocol layer of the platform connectors: one client per platform speaking its real API.

Plain Python (stdlib + requests, `cryptography` for the two AES-encrypted pushes): no Odoo import, so the
package also loads by file path. See shared/reference/platform-apis.md for every wire detail.
"""

from .base import (
    CANONICAL_STATUSES,
    AuthExpired,
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    FetchPage,
    PlatformClient,
    PlatformError,
    PushEvent,
    RateLimited,
    SignatureError,
    TokenInfo,
    TransportError,
    looks_encrypted,
    split_window,
)
from .douyin import DouyinClient
from .jd import JdClient
from .kuaishou import KuaishouClient
from .pinduoduo import PinduoduoClient
from .shopify import ShopifyClient
from .taobao import TaobaoClient
from .woocommerce import WooCommerceClient
from .youzan import YouzanClient

CLIENTS = {
    "taobao": TaobaoClient,
    "tmall": TaobaoClient,
    "pinduoduo": PinduoduoClient,
    "douyin": DouyinClient,
    "jd": JdClient,
    "kuaishou": KuaishouClient,
    "youzan": YouzanClient,
    "shopify": ShopifyClient,
    "woocommerce": WooCommerceClient,
}


def get_client(platform_code, **credentials):
    """A client for `platform_code` (a key of CLIENTS) built from keyword credentials."""
    try:
        client_class = CLIENTS[platform_code]
    except KeyError:
        raise ValueError(f"no platform client for {platform_code!r}; known: {', '.join(sorted(CLIENTS))}") from None
    client = client_class(**credentials)
    # Tmall shares Taobao's client; the canonical orders still say which platform they came from.
    client.code = platform_code
    return client


__all__ = [
    "CANONICAL_STATUSES",
    "CLIENTS",
    "AuthExpired",
    "CanonicalAddress",
    "CanonicalLine",
    "CanonicalOrder",
    "DouyinClient",
    "FetchPage",
    "JdClient",
    "KuaishouClient",
    "PinduoduoClient",
    "PlatformClient",
    "PlatformError",
    "PushEvent",
    "RateLimited",
    "ShopifyClient",
    "SignatureError",
    "TaobaoClient",
    "TokenInfo",
    "TransportError",
    "WooCommerceClient",
    "YouzanClient",
    "get_client",
    "looks_encrypted",
    "split_window",
]
