"""A SOAP 1.1 billing service (document/literal) with a WSDL: balances, invoices, payment arrangements.

``GET /billing?wsdl`` serves the WSDL (its address is the host the client asked); operations
are ``POST /billing`` with HTTP Basic authentication:

- ``Ping``: the service's status and time;
- ``GetChanges(cursor?, maxResults)``: balances, invoices and arrangements changed after the
  cursor, ordered by ``(updatedAt, kind, id)``; the answer's ``cursor`` continues from there;
- ``GetCustomerHoldings(customerNumber)``: one customer's balance, invoices and arrangements;
- ``CreatePaymentArrangement(customerNumber, amount, currency, instalments, idempotencyKey)``:
  made once per idempotency key (the same key again answers the first arrangement).

Faults: ``soap:Client`` for a request the service rejects (unknown customer, bad amount),
``soap:Server`` (HTTP 500) when it fails.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from integration.sample_systems import seed
from integration.sample_systems.http import Reply, Request, SampleSystem

NS = "http://billing.example.com/legacy/v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PATH = "/billing"
HOLDING_FIELDS = ("kind", "id", "customerNumber", "description", "status", "amount", "currency", "updatedAt")

WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions name="Billing" targetNamespace="{ns}" xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="{ns}" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <types>
    <xsd:schema targetNamespace="{ns}" elementFormDefault="qualified">
      <xsd:complexType name="Holding">
        <xsd:sequence>
          <xsd:element name="kind" type="xsd:string"/>
          <xsd:element name="id" type="xsd:string"/>
          <xsd:element name="customerNumber" type="xsd:string"/>
          <xsd:element name="description" type="xsd:string"/>
          <xsd:element name="status" type="xsd:string"/>
          <xsd:element name="amount" type="xsd:decimal"/>
          <xsd:element name="currency" type="xsd:string"/>
          <xsd:element name="updatedAt" type="xsd:dateTime"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:element name="Ping"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>
      <xsd:element name="PingResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="status" type="xsd:string"/>
          <xsd:element name="serverTime" type="xsd:dateTime"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetChanges">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="cursor" type="xsd:string" minOccurs="0"/>
          <xsd:element name="maxResults" type="xsd:int"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetChangesResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="holding" type="tns:Holding" minOccurs="0" maxOccurs="unbounded"/>
          <xsd:element name="cursor" type="xsd:string" minOccurs="0"/>
          <xsd:element name="more" type="xsd:boolean"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetCustomerHoldings">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="customerNumber" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetCustomerHoldingsResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="holding" type="tns:Holding" minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="CreatePaymentArrangement">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="customerNumber" type="xsd:string"/>
          <xsd:element name="amount" type="xsd:decimal"/>
          <xsd:element name="currency" type="xsd:string"/>
          <xsd:element name="instalments" type="xsd:int"/>
          <xsd:element name="idempotencyKey" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="CreatePaymentArrangementResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="holding" type="tns:Holding"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </types>
{messages}
  <portType name="BillingPort">
{port_operations}
  </portType>
  <binding name="BillingBinding" type="tns:BillingPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
{binding_operations}
  </binding>
  <service name="BillingService">
    <port name="BillingPort" binding="tns:BillingBinding">
      <soap:address location="{location}"/>
    </port>
  </service>
</definitions>
"""
OPERATIONS = ("Ping", "GetChanges", "GetCustomerHoldings", "CreatePaymentArrangement")


def wsdl(location: str) -> str:
    messages = "\n".join(
        f'  <message name="{op}Request"><part name="parameters" element="tns:{op}"/></message>\n'
        f'  <message name="{op}Response"><part name="parameters" element="tns:{op}Response"/></message>'
        for op in OPERATIONS
    )
    port_operations = "\n".join(
        f'    <operation name="{op}"><input message="tns:{op}Request"/><output message="tns:{op}Response"/></operation>'
        for op in OPERATIONS
    )
    binding_operations = "\n".join(
        f'    <operation name="{op}"><soap:operation soapAction="{NS}/{op}"/>'
        '<input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>'
        for op in OPERATIONS
    )
    return WSDL.format(
        ns=NS,
        location=location,
        messages=messages,
        port_operations=port_operations,
        binding_operations=binding_operations,
    )


class SoapFault(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def encode_cursor(holding: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{holding['updatedAt']}|{holding['kind']}|{holding['id']}".encode()).decode()


def _order_key(holding: dict[str, Any]) -> tuple[datetime, str, str]:
    return datetime.fromisoformat(holding["updatedAt"]), holding["kind"], holding["id"]


class Billing(SampleSystem):
    name = "billing"

    def __init__(self, *, username: str, password: str, people: list[seed.Person] | None = None) -> None:
        super().__init__()
        self.username, self.password = username, password
        self.lock = threading.Lock()
        self.holdings: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, id) -> holding
        self.customers: set[str] = set()
        self.arrangements_by_key: dict[str, tuple[str, str]] = {}
        for person in people if people is not None else seed.demo_people():
            self.customers.add(person.customer_number)
            balance, invoices, arrangements = seed.billing_for(person)
            for holding in [balance, *invoices, *arrangements]:
                self.holdings[(holding["kind"], holding["id"])] = holding

    def arrangement_count(self, customer_number: str) -> int:
        with self.lock:
            return sum(
                1
                for (kind, _), holding in self.holdings.items()
                if kind == "payment_arrangement" and holding["customerNumber"] == customer_number
            )

    def _now(self) -> str:
        latest = max((_order_key(holding)[0] for holding in self.holdings.values()), default=None)
        now = datetime.now(UTC)
        if latest and now <= latest:
            now = latest + timedelta(microseconds=1)
        return now.isoformat()

    # --- HTTP ----------------------------------------------------------------------------------

    def error_reply(self, status: int) -> Reply:
        return _fault_reply("soap:Server", "The billing service is unavailable.", status)

    def handle(self, request: Request) -> Reply:
        if request.path == "/health":
            return Reply.json(200, {"status": "ok"})
        if request.path != PATH:
            return Reply(404, b"not found", "text/plain")
        if request.method == "GET":  # ``?wsdl``, as SOAP services answer it
            return Reply(200, wsdl(f"http://{request.host}{PATH}").encode(), "text/xml; charset=utf-8")
        if request.method != "POST":
            return Reply(405, b"method not allowed", "text/plain")
        if not self._authenticated(request):
            return Reply(401, b"unauthorised", "text/plain", {"WWW-Authenticate": 'Basic realm="billing"'})
        try:
            envelope = etree.fromstring(request.body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            if body is None or len(body) == 0:
                raise SoapFault("soap:Client", "The envelope has no body.")
            operation = body[0]
            name = etree.QName(operation).localname
            if etree.QName(operation).namespace != NS or name not in OPERATIONS:
                raise SoapFault("soap:Client", f"Unknown operation {name}.")
            answer = getattr(self, f"_op_{name}")(_children(operation))
            return Reply(200, _envelope(f"{name}Response", answer), "text/xml; charset=utf-8")
        except etree.XMLSyntaxError:
            return _fault_reply("soap:Client", "The request is not well-formed XML.", 500)
        except SoapFault as fault:
            return _fault_reply(fault.code, fault.message, 500)

    def _authenticated(self, request: Request) -> bool:
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Basic "):
            return False
        try:
            username, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return username == self.username and secrets.compare_digest(password, self.password)

    # --- Operations: each takes the request's fields and returns the answer's ------------------

    def _op_Ping(self, fields: dict[str, Any]) -> list[tuple[str, Any]]:
        return [("status", "ok"), ("serverTime", datetime.now(UTC).isoformat())]

    def _op_GetChanges(self, fields: dict[str, Any]) -> list[tuple[str, Any]]:
        try:
            limit = int(fields.get("maxResults") or 100)
            after = None
            if fields.get("cursor"):
                updated, kind, key = base64.urlsafe_b64decode(fields["cursor"].encode()).decode().split("|", 2)
                after = (datetime.fromisoformat(updated), kind, key)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise SoapFault("soap:Client", "maxResults or cursor is malformed.") from None
        if not 1 <= limit <= 500:
            raise SoapFault("soap:Client", "maxResults must be between 1 and 500.")
        with self.lock:
            ordered = sorted(self.holdings.values(), key=_order_key)
        if after is not None:
            ordered = [holding for holding in ordered if _order_key(holding) > after]
        page = ordered[:limit]
        answer: list[tuple[str, Any]] = [("holding", holding) for holding in page]
        cursor = encode_cursor(page[-1]) if page else fields.get("cursor")
        if cursor:
            answer.append(("cursor", cursor))
        answer.append(("more", "true" if len(ordered) > limit else "false"))
        return answer

    def _op_GetCustomerHoldings(self, fields: dict[str, Any]) -> list[tuple[str, Any]]:
        number = fields.get("customerNumber", "")
        if number not in self.customers:
            raise SoapFault("soap:Client", f"Unknown customer {number}.")
        with self.lock:
            mine = sorted(
                (holding for holding in self.holdings.values() if holding["customerNumber"] == number),
                key=lambda holding: (holding["kind"], holding["id"]),
            )
        return [("holding", holding) for holding in mine]

    def _op_CreatePaymentArrangement(self, fields: dict[str, Any]) -> list[tuple[str, Any]]:
        number, key = fields.get("customerNumber", ""), fields.get("idempotencyKey", "")
        if not key:
            raise SoapFault("soap:Client", "idempotencyKey is required.")
        if number not in self.customers:
            raise SoapFault("soap:Client", f"Unknown customer {number}.")
        try:
            amount = Decimal(fields.get("amount", ""))
            instalments = int(fields.get("instalments", ""))
        except (InvalidOperation, ValueError):
            raise SoapFault("soap:Client", "amount or instalments is malformed.") from None
        if amount <= 0 or not 1 <= instalments <= 24:
            raise SoapFault("soap:Client", "amount must be positive and instalments between 1 and 24.")
        with self.lock:
            if key in self.arrangements_by_key:
                return [("holding", self.holdings[self.arrangements_by_key[key]])]
            count = sum(1 for kind, _ in self.holdings if kind == "payment_arrangement")
            holding = {
                "kind": "payment_arrangement",
                "id": f"PA-NEW-{count + 1:06d}",
                "customerNumber": number,
                "description": f"{instalments} monthly instalments",
                "status": "active",
                "amount": str(amount.quantize(Decimal("0.01"))),
                "currency": fields.get("currency") or "GBP",
                "updatedAt": self._now(),
            }
            self.holdings[("payment_arrangement", holding["id"])] = holding
            self.arrangements_by_key[key] = ("payment_arrangement", holding["id"])
        return [("holding", holding)]


def _children(element: etree._Element) -> dict[str, Any]:
    return {etree.QName(child).localname: (child.text or "").strip() for child in element}


def _envelope(name: str, answer: list[tuple[str, Any]]) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "b": NS})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    response = etree.SubElement(body, f"{{{NS}}}{name}")
    for field_name, value in answer:
        child = etree.SubElement(response, f"{{{NS}}}{field_name}")
        if isinstance(value, dict):
            for holding_field in HOLDING_FIELDS:
                etree.SubElement(child, f"{{{NS}}}{holding_field}").text = str(value[holding_field])
        else:
            child.text = str(value)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _fault_reply(code: str, message: str, status: int) -> Reply:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = message
    return Reply(status, etree.tostring(envelope, xml_declaration=True, encoding="utf-8"), "text/xml; charset=utf-8")
