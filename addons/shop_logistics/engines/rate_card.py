"""Carrier rate cards: what a parcel costs, 首重/续重 by destination zone, volumetric weight and surcharges.

How a price is made (``RateCard.quote``):

1. the zone: the first zone of the card whose region holds the destination; a district listed in a zone
   wins over its city, a city over its province. No zone: the carrier does not deliver there;
2. the chargeable weight: the actual weight, or the volumetric weight ``L×W×H / divisor`` (cm³, e.g. 8000 or
   6000) when larger; a card without divisor charges the actual weight only;
3. the first weight (首重, e.g. 1 kg) costs ``first_price``; each started step (e.g. 1 kg or 0.5 kg) of the
   weight above it (续重) costs ``additional_price``: 2.3 kg at 1 kg + 1 kg steps is 首重 + 2 × 续重;
4. a remote surcharge when the destination is in the card's remote regions (偏远地区).

``Quote.total`` is the expected freight cost; routing's "cheapest" mode compares it.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import NamedTuple

from .messages import Message, _lt, money, plain

ZERO = Decimal(0)
ONE = Decimal(1)
GRAMS_10 = Decimal("0.01")

QUOTE_SUMMARY = _lt(
    "%(carrier)s, zone %(zone)s: %(weight)s kg charged (actual %(actual)s kg, volumetric %(volumetric)s kg), "
    "first weight %(first)s + %(steps)s × additional weight %(additional)s + surcharge %(surcharge)s = %(total)s."
)


def volume_cm3(length_cm, width_cm, height_cm):
    return Decimal(length_cm) * Decimal(width_cm) * Decimal(height_cm)


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    region: object  # cn_regions.RegionSet
    first_price: Decimal
    additional_price: Decimal


class Quote(NamedTuple):
    carrier: str
    zone: str
    actual_kg: Decimal
    volumetric_kg: Decimal
    chargeable_kg: Decimal
    first_price: Decimal
    additional_steps: int
    additional_price: Decimal
    surcharge: Decimal
    total: Decimal

    @property
    def message(self):
        args = {
            "carrier": self.carrier, "zone": self.zone, "weight": plain(self.chargeable_kg),
            "actual": plain(self.actual_kg), "volumetric": plain(self.volumetric_kg),
            "first": money(self.first_price), "steps": self.additional_steps,
            "additional": money(self.additional_price), "surcharge": money(self.surcharge),
            "total": money(self.total),
        }
        return Message("rate.quote", QUOTE_SUMMARY, args)

    def to_data(self):
        return {
            "carrier": self.carrier, "zone": self.zone, "actual_kg": plain(self.actual_kg),
            "volumetric_kg": plain(self.volumetric_kg), "chargeable_kg": plain(self.chargeable_kg),
            "first_price": money(self.first_price), "additional_steps": self.additional_steps,
            "additional_price": money(self.additional_price), "surcharge": money(self.surcharge),
            "total": money(self.total),
        }


class RateCard:
    def __init__(self, carrier, zones, first_weight_kg=ONE, step_kg=ONE, volumetric_divisor=8000,
                 remote_region=None, remote_surcharge=ZERO, max_weight_kg=None):
        self.carrier = carrier
        self.zones = tuple(zones)
        self.first_weight_kg = Decimal(first_weight_kg)
        self.step_kg = Decimal(step_kg)
        self.volumetric_divisor = Decimal(volumetric_divisor) if volumetric_divisor else None
        self.remote_region = remote_region
        self.remote_surcharge = Decimal(remote_surcharge)
        self.max_weight_kg = None if max_weight_kg is None else Decimal(max_weight_kg)
        self._zone_by_code = {}
        for index in reversed(range(len(self.zones))):  # the first zone listing a code wins
            for code in self.zones[index].region.codes:
                self._zone_by_code[code] = index
        self._totals = {}

    def zone_index(self, area):
        """The index of the zone of ``area`` (the most precise code listed wins), or None when not served."""
        by_code = self._zone_by_code
        index = by_code.get(area.district_code)
        if index is None:
            index = by_code.get(area.city_code)
            if index is None:
                index = by_code.get(area.province_code)
        return index

    def zone_for(self, area):
        index = self.zone_index(area)
        return None if index is None else self.zones[index]

    def volumetric_kg(self, volume_cm3):
        """L×W×H / divisor, rounded up to 10 g (a step boundary never moves by that rounding)."""
        if not self.volumetric_divisor or not volume_cm3:
            return ZERO
        return (volume_cm3 / self.volumetric_divisor).quantize(GRAMS_10, rounding=ROUND_CEILING)

    def additional_steps(self, chargeable_kg):
        above = chargeable_kg - self.first_weight_kg
        if above <= 0:
            return 0
        return int((above / self.step_kg).to_integral_value(rounding=ROUND_CEILING))

    def is_remote(self, area):
        return self.remote_region is not None and area in self.remote_region

    def price(self, weight_kg, volume_cm3, area):
        """The expected freight (Decimal), or None when no zone of the card holds ``area``."""
        index = self.zone_index(area)
        if index is None:
            return None
        volumetric = self.volumetric_kg(volume_cm3)
        steps = self.additional_steps(max(weight_kg, volumetric))
        return self._total(index, steps, self.is_remote(area))

    def _total(self, zone_index, steps, remote):
        key = (zone_index, steps, remote)
        total = self._totals.get(key)
        if total is None:
            zone = self.zones[zone_index]
            surcharge = self.remote_surcharge if remote else ZERO
            total = self._totals[key] = zone.first_price + zone.additional_price * steps + surcharge
        return total

    def quote(self, weight_kg, volume_cm3, area):
        """The Quote, each part of the price shown, for a parcel to ``area``; None when not served."""
        index = self.zone_index(area)
        if index is None:
            return None
        zone = self.zones[index]
        volumetric = self.volumetric_kg(volume_cm3)
        chargeable = max(weight_kg, volumetric)
        steps = self.additional_steps(chargeable)
        remote = self.is_remote(area)
        surcharge = self.remote_surcharge if remote else ZERO
        return Quote(self.carrier, zone.name, weight_kg, volumetric, chargeable, zone.first_price, steps,
                     zone.additional_price, surcharge, self._total(index, steps, remote))

    def takes(self, weight_kg):
        return self.max_weight_kg is None or weight_kg <= self.max_weight_kg
