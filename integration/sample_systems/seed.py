"""The sample systems' data, lined up with CEA's demo customers.

CEA's demo data (``records.demo.generator``) makes customer ``i`` with the phone
``+4474<i:08d>``, often the account identity ``ACC<i:08d>``, and an email made of the names it
draws from one seeded random stream. ``demo_people`` replays that stream (same seed, same draws
in the same order), so the legacy systems hold the same people under their own customer numbers
(``CUST<i:06d>``): a sync links them to the demo customers instead of making new ones. A test
checks the replay against the real generator.

Everything else (orders, invoices …) is drawn from a second stream per customer, so the data is
the same on every run. ``updated_at`` values are fixed instants before ``SEED_EPOCH``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from records.demo import vocabulary as words
from records.demo.journeys import ARCHETYPES

DEMO_SEED = 20261123  # records' load_demo_data default
DEMO_CUSTOMERS = 2000  # records' default demo size
SEED_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
# The demo generator's weights, in its order (only their order and values matter to the replay).
_TIER_WEIGHTS = {"standard": 70, "silver": 18, "gold": 9, "platinum": 3}
_CHANNEL_WEIGHT_COUNT = 9
_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True)
class Person:
    index: int
    customer_number: str
    given_name: str
    family_name: str
    email: str
    phone: str
    date_of_birth: date
    address_line1: str
    city: str
    postcode: str
    segment: str
    value_tier: str

    @property
    def account_number(self) -> str:
        return f"ACC{self.index:08d}"


def customer_number(index: int) -> str:
    return f"CUST{index:06d}"


def demo_people(count: int = DEMO_CUSTOMERS, seed: int = DEMO_SEED) -> list[Person]:
    """The first ``count`` demo customers as ``records.demo.generator`` makes them."""
    rng, people = random.Random(seed), []
    other_teams = len(words.TEAMS) - 1
    for i in range(count):
        archetype = ARCHETYPES.get(rng.choice(words.PERSONAS))
        given, family = rng.choice(words.GIVEN_NAMES), rng.choice(words.FAMILY_NAMES)
        city, district = rng.choice(words.CITIES)
        tiers = archetype.tiers if archetype else _TIER_WEIGHTS
        tier = rng.choices(list(tiers), weights=list(tiers.values()))[0]
        has_email, has_phone = rng.random() < 0.9, rng.random() < 0.85
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 66))
        address = f"{rng.randint(1, 240)} {rng.choice(words.STREETS)}"
        postcode = f"{district} {rng.randint(1, 9)}{rng.choice(_POSTCODE_LETTERS)}{rng.choice(_POSTCODE_LETTERS)}"
        rng.choice(words.LANGUAGES)
        if rng.random() < 0.6:
            rng.choices(range(_CHANNEL_WEIGHT_COUNT), k=1)
        rng.choice(["morning", "afternoon", "evening", "any"])
        segment = rng.choice(archetype.segments if archetype else words.SEGMENTS)
        rng.randint(0, 35)
        if tier not in ("gold", "platinum"):
            rng.choice(range(other_teams))
        rng.randint(1, 3650)
        people.append(
            Person(
                index=i,
                customer_number=customer_number(i),
                given_name=given,
                family_name=family,
                email=f"{given}.{family}.{i}@example.com".lower() if has_email else "",
                phone=f"+4474{i:08d}" if has_phone else "",
                date_of_birth=born,
                address_line1=address,
                city=city,
                postcode=postcode,
                segment=segment,
                value_tier=tier,
            )
        )
    return people


def _stamp(rng: random.Random) -> str:
    return (SEED_EPOCH - timedelta(seconds=rng.randint(60, 90 * 24 * 3600))).isoformat()


def _money(rng: random.Random, low: int, high: int) -> str:
    return str(Decimal(rng.randint(low * 100, high * 100)) / 100)


ORDER_STATUSES = ("placed", "picking", "dispatched", "delivered", "cancelled")
SHIPMENT_STATUSES = ("label_created", "in_transit", "out_for_delivery", "delivered")
CARRIERS = ("Royal Mail", "DPD", "Evri", "DHL")
PRODUCTS = ("Broadband 500", "Mobile SIM 30GB", "Smart Router", "TV Box", "Landline", "Home Phone Plus")


def orders_for(person: Person) -> tuple[list[dict], list[dict]]:
    """The order-management system's orders and shipments of one customer (0–3 orders)."""
    rng = random.Random(f"orders-{person.index}")
    orders, shipments = [], []
    for number in range(rng.choice((0, 1, 1, 2, 3))):
        order_number = f"ORD{person.index:06d}{number:02d}"
        status = rng.choice(ORDER_STATUSES)
        updated = _stamp(rng)
        product, quantity = rng.choice(PRODUCTS), rng.randint(1, 3)
        orders.append(
            {
                "order_number": order_number,
                "customer_number": person.customer_number,
                "status": status,
                "placed_at": updated,
                "total": _money(rng, 5, 400),
                "currency": "GBP",
                "summary": f"{quantity} × {product}",
                "lines": [{"product": product, "quantity": quantity}],
                "updated_at": updated,
            }
        )
        if status in ("dispatched", "delivered"):
            shipments.append(
                {
                    "shipment_id": f"SHP{person.index:06d}{number:02d}",
                    "order_number": order_number,
                    "customer_number": person.customer_number,
                    "carrier": (carrier := rng.choice(CARRIERS)),
                    "tracking_number": f"TRK{rng.randint(10**9, 10**10 - 1)}",
                    "summary": f"{carrier} parcel",
                    "status": "delivered" if status == "delivered" else rng.choice(SHIPMENT_STATUSES[:3]),
                    "updated_at": _stamp(rng),
                }
            )
    return orders, shipments


def billing_for(person: Person) -> tuple[dict, list[dict], list[dict]]:
    """The billing system's balance, invoices (1–4) and payment arrangements (0–1) of one customer."""
    rng = random.Random(f"billing-{person.index}")
    invoices = []
    for number in range(rng.randint(1, 4)):
        invoices.append(
            {
                "kind": "invoice",
                "id": f"INV{person.index:06d}{number:02d}",
                "customerNumber": person.customer_number,
                "description": f"Invoice {number + 1}",
                "status": rng.choice(("paid", "paid", "open", "overdue")),
                "amount": _money(rng, 10, 150),
                "currency": "GBP",
                "updatedAt": _stamp(rng),
            }
        )
    owed = sum((Decimal(invoice["amount"]) for invoice in invoices if invoice["status"] != "paid"), Decimal(0))
    balance = {
        "kind": "balance",
        "id": person.account_number,
        "customerNumber": person.customer_number,
        "description": "Account balance",
        "status": "in_arrears" if owed > 100 else "active",
        "amount": str(owed),
        "currency": "GBP",
        "updatedAt": max(invoice["updatedAt"] for invoice in invoices),
    }
    arrangements = []
    if owed > 100 and rng.random() < 0.5:
        arrangements.append(
            {
                "kind": "payment_arrangement",
                "id": f"PA{person.index:06d}00",
                "customerNumber": person.customer_number,
                "description": "3 monthly instalments",
                "status": "active",
                "amount": str(owed),
                "currency": "GBP",
                "updatedAt": _stamp(rng),
            }
        )
    return balance, invoices, arrangements


def accounts_for(person: Person) -> list[dict]:
    """The customer database's product accounts of one customer (1–2)."""
    rng = random.Random(f"accounts-{person.index}")
    rows = []
    for number in range(rng.randint(1, 2)):
        rows.append(
            {
                "acct_no": person.account_number if number == 0 else f"ACC{person.index:08d}-{number}",
                "cust_no": person.customer_number,
                "product_nm": rng.choice(PRODUCTS),
                "status_cd": rng.choice(("A", "A", "A", "S", "C")),
                "opened_dt": date(2010, 1, 1) + timedelta(days=rng.randint(0, 5000)),
                "updated_at": datetime.fromisoformat(_stamp(rng)),
            }
        )
    return rows
