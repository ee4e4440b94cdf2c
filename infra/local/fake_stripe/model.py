"""The fake's state and Stripe's rules over it: Connect accounts, account links,
PaymentIntents, charges, refunds, idempotency keys and events.

Every object belongs to an account: the platform's (``None``) or a connected one (the
request's ``Stripe-Account``). An object is found only under the account it belongs to, as
in Stripe. The callers hold :attr:`StripeState.lock` around each request."""

from __future__ import annotations

import copy
import hashlib
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from infra.local.fake_stripe.webhooks import Endpoint, Outbox

__all__ = [
    "API_VERSION",
    "DEFAULT_CONNECT_SECRET",
    "DEFAULT_PLATFORM_SECRET",
    "PLATFORM_ACCOUNT",
    "StripeError",
    "StripeState",
]

# The API version of the pinned `stripe` SDK (a test keeps them equal).
API_VERSION = "2026-10-28.endive"
DEFAULT_PLATFORM_SECRET = "whsec_fake_platform"  # noqa: S105 - a fixed local test secret
DEFAULT_CONNECT_SECRET = "whsec_fake_connect"  # noqa: S105 - a fixed local test secret
PLATFORM_ACCOUNT = "acct_fakeplatform0001"
LINK_LIFETIME = 300  # seconds, as Stripe's account links

Obj = dict[str, Any]
Params = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class StripeError(Exception):
    """A refusal in Stripe's shape: ``{"error": {"type", "code", "message", "param"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.extra = dict(extra or {})

    def body(self, request_id: str | None = None) -> Obj:
        error: Obj = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        error.update(self.extra)
        return {"error": error}


def public(value: Any) -> Any:
    """A copy of ``value`` without the fake's own bookkeeping (keys starting with ``_``)."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def unknown_parameters(params: Mapping[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed and name != "expand":
            raise StripeError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _given(params: Mapping[str, Any], name: str, required: bool) -> Any:
    """The parameter, or None when absent or empty (refused when ``required``)."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeError(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )
        return None
    return value


def as_int(params: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    value = _given(params, name, required)
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise StripeError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=name
        ) from None


def as_bool(params: Mapping[str, Any], name: str) -> bool | None:
    value = params.get(name)
    if value is None or isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise StripeError(400, f"Invalid boolean: {value}", code="parameter_invalid", param=name)


def as_str(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = _given(params, name, required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise StripeError(400, f"Invalid string: {name}", code="parameter_invalid", param=name)
    return value


def as_metadata(params: Mapping[str, Any], name: str = "metadata") -> dict[str, str] | None:
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StripeError(400, "Invalid hash", code="parameter_invalid", param=name)
    return {str(k): v for k, v in value.items()}


# The test payment methods Stripe documents (https://stripe.com/docs/testing), by id.
TEST_CARDS: dict[str, Obj] = {
    "pm_card_visa": {"brand": "visa", "last4": "4242"},
    "pm_card_mastercard": {"brand": "mastercard", "last4": "4444"},
    "pm_card_amex": {"brand": "amex", "last4": "8431"},
    "pm_card_chargeDeclined": {"brand": "visa", "last4": "0002", "decline": "generic_decline"},
    "pm_card_visa_chargeDeclined": {
        "brand": "visa",
        "last4": "0002",
        "decline": "generic_decline",
    },
    "pm_card_chargeDeclinedInsufficientFunds": {
        "brand": "visa",
        "last4": "9995",
        "decline": "insufficient_funds",
    },
    "pm_card_chargeDeclinedExpiredCard": {
        "brand": "visa",
        "last4": "0069",
        "decline": "expired_card",
    },
}
DECLINE_MESSAGES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "expired_card": ("expired_card", "Your card has expired."),
}
MINIMUM_AMOUNT = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50}
COUNTRY_CURRENCY = {"GB": "gbp", "US": "usd", "CH": "chf", "CA": "cad", "AU": "aud"}
EURO_COUNTRIES = {"IT", "FR", "DE", "ES", "IE", "NL", "BE", "AT", "PT", "FI", "GR", "LU"}
ONBOARDING_REQUIREMENTS = [
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "representative.first_name",
    "representative.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


class StripeState:
    """Everything the fake knows; ``lock`` is held by the server around each request."""

    def __init__(self, outbox: Outbox, *, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.outbox = outbox
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self.objects: dict[str, tuple[str | None, Obj]] = {}  # id -> (owner account, object)
        self.accounts: dict[str, Obj] = {}
        self.links: dict[str, Obj] = {}  # link token -> {account, refresh_url, ...}
        self.events: list[Obj] = []
        self.idempotency: dict[tuple[str | None, str], tuple[str, int, str]] = {}

    def now(self) -> int:
        return int(self._clock())

    # -- storage -----------------------------------------------------------------------

    def _put(self, account: str | None, obj: Obj) -> Obj:
        self.objects[obj["id"]] = (account, obj)
        return obj

    def get(self, kind: str, object_id: str, account: str | None, *, param: str = "id") -> Obj:
        found = self.objects.get(object_id)
        if found is None or found[0] != account or found[1].get("object") != kind:
            raise missing(kind, object_id, param)
        return found[1]

    def owned(self, kind: str, account: str | None) -> list[Obj]:
        return [
            obj
            for owner, obj in self.objects.values()
            if owner == account and obj.get("object") == kind
        ]

    def check_account(self, account: str | None) -> None:
        """A ``Stripe-Account`` header must name one of the platform's connected accounts."""
        if account is not None and account not in self.accounts:
            raise StripeError(
                403,
                f"The provided key does not have access to account '{account}' (or that "
                "account does not exist). Application access may have been revoked.",
                code="account_invalid",
            )

    # -- idempotency ---------------------------------------------------------------------

    @staticmethod
    def fingerprint(method: str, path: str, pairs: list[tuple[str, str]]) -> str:
        canonical = "\n".join(f"{k}={v}" for k, v in sorted(pairs))
        return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()

    def replay(self, account: str | None, key: str, fingerprint: str) -> tuple[int, str] | None:
        """The stored answer to this key, or None; a different request under it is refused."""
        stored = self.idempotency.get((account, key))
        if stored is None:
            return None
        if stored[0] != fingerprint:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        return stored[1], stored[2]

    def remember(
        self, account: str | None, key: str, fingerprint: str, status: int, body: str
    ) -> None:
        self.idempotency[(account, key)] = (fingerprint, status, body)

    # -- events --------------------------------------------------------------------------

    def emit(
        self,
        type_: str,
        obj: Obj,
        account: str | None,
        request: Mapping[str, str | None] | None = None,
        previous: Obj | None = None,
    ) -> Obj:
        """Record an event about ``obj`` (a snapshot) and hand it to the outbox."""
        endpoint: Endpoint = "connect" if account else "platform"
        data: Obj = {"object": public(obj)}
        if previous is not None:
            data["previous_attributes"] = public(previous)
        event: Obj = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self.outbox.has_url(endpoint) else 0,
            "request": {
                "id": (request or {}).get("id"),
                "idempotency_key": (request or {}).get("idempotency_key"),
            },
            "type": type_,
        }
        if account:
            event = {"id": event.pop("id"), "object": "event", "account": account, **event}
        self.events.append(event)
        self._put(account, event)
        self.outbox.add(event)
        return event

    def list_events(self, account: str | None, params: Params) -> Obj:
        unknown_parameters(
            params, {"type", "types", "limit", "starting_after", "ending_before", "created"}
        )
        events = [e for e in reversed(self.events) if e.get("account") == account]
        if type_ := as_str(params, "type"):
            if type_.endswith(".*"):
                events = [e for e in events if e["type"].startswith(type_[:-1])]
            else:
                events = [e for e in events if e["type"] == type_]
        types = params.get("types")
        if isinstance(types, list):
            events = [e for e in events if e["type"] in types]
        created = params.get("created")
        if isinstance(created, dict):
            bounds = {op: as_int(created, op) for op in ("gt", "gte", "lt", "lte")}
            events = [e for e in events if _within(e["created"], bounds)]
        elif created is not None:
            moment = as_int(params, "created")
            events = [e for e in events if e["created"] == moment]
        return self.page("/v1/events", events, params)

    @staticmethod
    def page(url: str, items: list[Obj], params: Params) -> Obj:
        limit = as_int(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid limit", code="parameter_invalid_integer", param="limit")
        ids = [item["id"] for item in items]
        if after := as_str(params, "starting_after"):
            items = items[ids.index(after) + 1 :] if after in ids else []
        elif before := as_str(params, "ending_before"):
            items = items[: ids.index(before)][-limit:] if before in ids else []
        return {
            "object": "list",
            "url": url,
            "has_more": len(items) > limit,
            "data": copy.deepcopy(items[:limit]),
        }

    # -- accounts ------------------------------------------------------------------------

    def create_account(self, params: Params, request: Mapping[str, str | None]) -> Obj:
        unknown_parameters(
            params,
            {
                "type",
                "country",
                "email",
                "capabilities",
                "metadata",
                "business_type",
                "business_profile",
                "default_currency",
                "settings",
                "controller",
                "tos_acceptance",
            },
        )
        account_type = as_str(params, "type") or "express"
        if account_type not in ("express", "standard", "custom"):
            raise StripeError(400, f"Invalid type: {account_type}", param="type")
        country = (as_str(params, "country") or "US").upper()
        if len(country) != 2:
            raise StripeError(400, f"Invalid country: {country}", param="country")
        capabilities = params.get("capabilities") or {}
        if not isinstance(capabilities, dict):
            raise StripeError(400, "Invalid hash", code="parameter_invalid", param="capabilities")
        requested = sorted(
            name
            for name, spec in capabilities.items()
            if isinstance(spec, dict) and str(spec.get("requested")).lower() == "true"
        )
        currency = as_str(params, "default_currency") or (
            "eur" if country in EURO_COUNTRIES else COUNTRY_CURRENCY.get(country, "usd")
        )
        profile = params.get("business_profile")
        account: Obj = {
            "id": new_id("acct_", 16),
            "object": "account",
            "business_profile": {
                "mcc": None,
                "name": None,
                "product_description": None,
                "support_email": None,
                "url": None,
                **(profile if isinstance(profile, dict) else {}),
            },
            "business_type": as_str(params, "business_type"),
            "capabilities": {name: "inactive" for name in requested},
            "charges_enabled": False,
            "controller": {"type": "application", "is_controller": True},
            "country": country,
            "created": self.now(),
            "default_currency": currency.lower(),
            "details_submitted": False,
            "email": as_str(params, "email"),
            "metadata": as_metadata(params) or {},
            "payouts_enabled": False,
            "requirements": _requirements(ONBOARDING_REQUIREMENTS),
            "settings": {"payouts": {"schedule": {"interval": "daily", "delay_days": 2}}},
            "tos_acceptance": {"date": None},
            "type": account_type,
        }
        self.accounts[account["id"]] = account
        return copy.deepcopy(account)

    def retrieve_account(self, account_id: str | None, header_account: str | None) -> Obj:
        """``GET /v1/accounts/{id}`` (or ``/v1/account``: the header's, else the platform)."""
        wanted = account_id or header_account
        if wanted is None or wanted == PLATFORM_ACCOUNT:
            return {
                "id": PLATFORM_ACCOUNT,
                "object": "account",
                "type": "standard",
                "country": "GB",
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "default_currency": "gbp",
            }
        if header_account is not None and wanted != header_account:
            raise missing("account", wanted)
        account = self.accounts.get(wanted)
        if account is None:
            raise missing("account", wanted)
        return copy.deepcopy(account)

    def update_account(
        self, account_id: str, params: Params, request: Mapping[str, str | None]
    ) -> Obj:
        unknown_parameters(params, {"email", "metadata", "business_profile", "settings"})
        account = self.accounts.get(account_id)
        if account is None:
            raise missing("account", account_id)
        previous: Obj = {}
        if (email := as_str(params, "email")) is not None and email != account["email"]:
            previous["email"] = account["email"]
            account["email"] = email
        if (metadata := as_metadata(params)) is not None:
            previous["metadata"] = dict(account["metadata"])
            account["metadata"] = {**account["metadata"], **metadata} if metadata else {}
            account["metadata"] = {k: v for k, v in account["metadata"].items() if v != ""}
        if isinstance(profile := params.get("business_profile"), dict):
            previous["business_profile"] = dict(account["business_profile"])
            account["business_profile"].update(profile)
        if previous:
            self.emit("account.updated", account, account_id, request, previous)
        return copy.deepcopy(account)

    def complete_onboarding(self, account_id: str) -> Obj:
        """What the account's owner does on Stripe's onboarding pages: everything due is
        given, charges and payouts are enabled, requested capabilities become active."""
        account = self.accounts.get(account_id)
        if account is None:
            raise missing("account", account_id)
        if account["details_submitted"] and account["charges_enabled"]:
            return copy.deepcopy(account)
        previous = {
            "capabilities": dict(account["capabilities"]),
            "charges_enabled": account["charges_enabled"],
            "details_submitted": account["details_submitted"],
            "payouts_enabled": account["payouts_enabled"],
            "requirements": copy.deepcopy(account["requirements"]),
        }
        account.update(
            capabilities={name: "active" for name in account["capabilities"]},
            charges_enabled=True,
            details_submitted=True,
            payouts_enabled=True,
            requirements=_requirements([]),
            tos_acceptance={"date": self.now()},
        )
        self.emit("account.updated", account, account_id, None, previous)
        return copy.deepcopy(account)

    def create_account_link(self, params: Params, base_url: str) -> Obj:
        unknown_parameters(params, {"account", "refresh_url", "return_url", "type", "collect"})
        account_id = as_str(params, "account", required=True)
        assert account_id is not None
        if account_id not in self.accounts:
            raise missing("account", account_id, "account")
        link_type = as_str(params, "type", required=True)
        if link_type not in ("account_onboarding", "account_update"):
            raise StripeError(400, f"Invalid type: {link_type}", param="type")
        refresh_url = as_str(params, "refresh_url", required=True)
        return_url = as_str(params, "return_url", required=True)
        token = new_id("", 32)
        created = self.now()
        self.links[token] = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "expires_at": created + LINK_LIFETIME,
            "used": False,
        }
        return {
            "object": "account_link",
            "created": created,
            "expires_at": created + LINK_LIFETIME,
            "url": f"{base_url}/_fake/onboarding/{token}",
        }

    def follow_link(self, token: str) -> tuple[bool, str, Obj | None]:
        """An onboarding link visited: (completed?, where to go next, the account)."""
        link = self.links.get(token)
        if link is None:
            raise StripeError(404, "This link is not valid.", code="resource_missing")
        if link["used"] or self.now() > link["expires_at"]:
            return False, str(link["refresh_url"]), None
        link["used"] = True
        account = self.complete_onboarding(link["account"])
        return True, str(link["return_url"]), account

    # -- payment intents -----------------------------------------------------------------

    def create_payment_intent(
        self, account: str | None, params: Params, request: Mapping[str, str | None]
    ) -> Obj:
        unknown_parameters(
            params,
            {
                "amount",
                "currency",
                "application_fee_amount",
                "automatic_payment_methods",
                "capture_method",
                "confirm",
                "customer",
                "description",
                "metadata",
                "on_behalf_of",
                "payment_method",
                "payment_method_options",
                "payment_method_types",
                "receipt_email",
                "return_url",
                "setup_future_usage",
                "shipping",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "transfer_group",
            },
        )
        amount = as_int(params, "amount", required=True)
        currency = (as_str(params, "currency", required=True) or "").lower()
        assert amount is not None
        if len(currency) != 3 or not currency.isalpha():
            raise StripeError(400, f"Invalid currency: {currency}", param="currency")
        minimum = MINIMUM_AMOUNT.get(currency, 1)
        if amount < minimum:
            raise StripeError(
                400,
                f"Amount must be at least {minimum} {currency}",
                code="amount_too_small",
                param="amount",
            )
        fee = as_int(params, "application_fee_amount")
        if fee is not None:
            if account is None:
                raise StripeError(
                    400,
                    "Can only apply an application_fee_amount when the PaymentIntent is "
                    "attempting a direct payment (using an OAuth key or Stripe-Account header) "
                    "or destination payment (using `transfer_data[destination]`).",
                    param="application_fee_amount",
                )
            if not 0 <= fee <= amount:
                raise StripeError(
                    400,
                    "The application fee must be between 0 and the amount.",
                    code="parameter_invalid_integer",
                    param="application_fee_amount",
                )
        capture_method = as_str(params, "capture_method") or "automatic_async"
        if capture_method not in ("automatic", "automatic_async"):
            raise StripeError(400, "This fake captures automatically only.", param="capture_method")
        automatic = params.get("automatic_payment_methods")
        types = params.get("payment_method_types")
        intent: Obj = {
            "id": new_id("pi_"),
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "application": None,
            "application_fee_amount": fee,
            "automatic_payment_methods": (
                {
                    "enabled": str(automatic.get("enabled")).lower() == "true",
                    "allow_redirects": automatic.get("allow_redirects", "always"),
                }
                if isinstance(automatic, dict)
                else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture_method,
            "client_secret": "",
            "confirmation_method": "automatic",
            "created": self.now(),
            "currency": currency,
            "customer": as_str(params, "customer"),
            "description": as_str(params, "description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": as_metadata(params) or {},
            "next_action": None,
            "on_behalf_of": as_str(params, "on_behalf_of"),
            "payment_method": None,
            "payment_method_options": params.get("payment_method_options") or {},
            "payment_method_types": types if isinstance(types, list) else ["card"],
            "receipt_email": as_str(params, "receipt_email"),
            "setup_future_usage": as_str(params, "setup_future_usage"),
            "shipping": params.get("shipping") or None,
            "statement_descriptor": as_str(params, "statement_descriptor"),
            "statement_descriptor_suffix": as_str(params, "statement_descriptor_suffix"),
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": as_str(params, "transfer_group"),
        }
        intent["client_secret"] = f"{intent['id']}_secret_{new_id('', 24)}"
        if method_id := as_str(params, "payment_method"):
            method = self._payment_method(account, method_id)
            intent.update(payment_method=method["id"], status="requires_confirmation")
        confirm = as_bool(params, "confirm")
        self._put(account, intent)
        self.emit("payment_intent.created", intent, account, request)
        if confirm:
            return self.confirm(account, intent["id"], {}, request)
        return copy.deepcopy(intent)

    def update_payment_intent(
        self,
        account: str | None,
        intent_id: str,
        params: Params,
        request: Mapping[str, str | None],
    ) -> Obj:
        unknown_parameters(
            params, {"amount", "application_fee_amount", "description", "metadata", "receipt_email"}
        )
        intent = self.get("payment_intent", intent_id, account)
        if intent["status"] in ("succeeded", "canceled", "processing"):
            raise _unexpected_state(intent, "update")
        if (amount := as_int(params, "amount")) is not None:
            intent["amount"] = amount
        if (fee := as_int(params, "application_fee_amount")) is not None:
            intent["application_fee_amount"] = fee
        if (metadata := as_metadata(params)) is not None:
            merged = {**intent["metadata"], **metadata} if metadata else {}
            intent["metadata"] = {k: v for k, v in merged.items() if v != ""}
        for name in ("description", "receipt_email"):
            if (value := as_str(params, name)) is not None:
                intent[name] = value
        return copy.deepcopy(intent)

    def confirm(
        self,
        account: str | None,
        intent_id: str,
        params: Params,
        request: Mapping[str, str | None] | None,
    ) -> Obj:
        """Confirm with a test payment method: a charge that succeeds, or a decline (402)."""
        unknown_parameters(params, {"payment_method", "return_url", "receipt_email", "off_session"})
        intent = self.get("payment_intent", intent_id, account)
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise _unexpected_state(intent, "confirm")
        method_id = as_str(params, "payment_method") or intent["payment_method"]
        if method_id is None:
            raise StripeError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": copy.deepcopy(intent)},
            )
        method = self._payment_method(account, method_id)
        card = method["card"]
        decline = card.get("_decline")
        method = {k: v for k, v in method.items() if k != "card"} | {
            "card": {k: v for k, v in card.items() if not k.startswith("_")}
        }
        charge = self._charge(account, intent, method, decline)
        if decline:
            code, message = DECLINE_MESSAGES[decline]
            intent.update(
                status="requires_payment_method",
                payment_method=None,
                latest_charge=charge["id"],
                last_payment_error={
                    "charge": charge["id"],
                    "code": code,
                    "decline_code": decline,
                    "message": message,
                    "payment_method": method,
                    "type": "card_error",
                },
            )
            self.emit("charge.failed", charge, account, request)
            self.emit("payment_intent.payment_failed", intent, account, request)
            raise StripeError(
                402,
                message,
                type="card_error",
                code=code,
                extra={
                    "decline_code": decline,
                    "charge": charge["id"],
                    "payment_intent": copy.deepcopy(intent),
                    "payment_method": method,
                },
            )
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            payment_method=method["id"],
            latest_charge=charge["id"],
            last_payment_error=None,
        )
        self.emit("charge.succeeded", charge, account, request)
        self.emit("payment_intent.succeeded", intent, account, request)
        if charge["application_fee"]:
            fee = self.objects[charge["application_fee"]][1]
            self.emit("application_fee.created", fee, None, request)
        return copy.deepcopy(intent)

    def pay(self, intent_id: str, card: str) -> Obj:
        """What Stripe Elements does in the buyer's browser: confirm the PaymentIntent
        (whichever account it is on) with a test card; a decline is no error here."""
        found = self.objects.get(intent_id)
        if found is None or found[1].get("object") != "payment_intent":
            raise missing("payment_intent", intent_id)
        method = {"visa": "pm_card_visa", "declined": "pm_card_chargeDeclined"}.get(card, card)
        try:
            return self.confirm(found[0], intent_id, {"payment_method": method}, None)
        except StripeError as error:
            if error.type != "card_error":
                raise
            return copy.deepcopy(found[1])

    def cancel(
        self,
        account: str | None,
        intent_id: str,
        params: Params,
        request: Mapping[str, str | None],
    ) -> Obj:
        unknown_parameters(params, {"cancellation_reason"})
        intent = self.get("payment_intent", intent_id, account)
        if intent["status"] in ("succeeded", "canceled", "processing"):
            raise _unexpected_state(intent, "cancel")
        intent.update(
            status="canceled",
            canceled_at=self.now(),
            cancellation_reason=as_str(params, "cancellation_reason"),
        )
        self.emit("payment_intent.canceled", intent, account, request)
        return copy.deepcopy(intent)

    def _payment_method(self, account: str | None, method_id: str) -> Obj:
        card = TEST_CARDS.get(method_id)
        if card is None:
            return self.get("payment_method", method_id, account, param="payment_method")
        method: Obj = {
            "id": new_id("pm_"),
            "object": "payment_method",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "card": {
                "brand": card["brand"],
                "country": "GB",
                "exp_month": 12,
                "exp_year": 2034,
                "funding": "credit",
                "last4": card["last4"],
                "_decline": card.get("decline"),
            },
            "created": self.now(),
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        self._put(account, method)
        return method

    def _charge(self, account: str | None, intent: Obj, method: Obj, decline: str | None) -> Obj:
        fee_id = None
        charge_id = new_id("ch_")
        fee_amount = intent["application_fee_amount"]
        if not decline and fee_amount:
            fee_id = new_id("fee_")
            self._put(
                None,
                {
                    "id": fee_id,
                    "object": "application_fee",
                    "account": account,
                    "amount": fee_amount,
                    "amount_refunded": 0,
                    "charge": charge_id,
                    "created": self.now(),
                    "currency": intent["currency"],
                    "livemode": False,
                    "originating_transaction": charge_id,
                    "refunded": False,
                },
            )
        code, message = DECLINE_MESSAGES[decline] if decline else (None, None)
        charge: Obj = {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0 if decline else intent["amount"],
            "amount_refunded": 0,
            "application_fee": fee_id,
            "application_fee_amount": fee_amount,
            "balance_transaction": None if decline else new_id("txn_"),
            "billing_details": method["billing_details"],
            "captured": not decline,
            "created": self.now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "failure_code": code,
            "failure_message": message,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "network_status": "declined_by_network" if decline else "approved_by_network",
                "reason": decline,
                "risk_level": "normal",
                "seller_message": (
                    "The bank did not return any further details with this decline."
                    if decline
                    else "Payment complete."
                ),
                "type": "issuer_declined" if decline else "authorized",
            },
            "paid": not decline,
            "payment_intent": intent["id"],
            "payment_method": method["id"],
            "payment_method_details": {"card": method["card"], "type": "card"},
            "receipt_email": intent["receipt_email"],
            "refunded": False,
            "status": "failed" if decline else "succeeded",
            "transfer_data": None,
        }
        return self._put(account, charge)

    # -- refunds -------------------------------------------------------------------------

    def create_refund(
        self, account: str | None, params: Params, request: Mapping[str, str | None]
    ) -> Obj:
        unknown_parameters(
            params,
            {
                "payment_intent",
                "charge",
                "amount",
                "reason",
                "metadata",
                "refund_application_fee",
                "reverse_transfer",
            },
        )
        intent_id = as_str(params, "payment_intent")
        charge_id = as_str(params, "charge")
        if intent_id:
            intent = self.get("payment_intent", intent_id, account, param="payment_intent")
            if intent["status"] != "succeeded" or not intent["latest_charge"]:
                raise StripeError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to "
                    "refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
            charge_id = intent["latest_charge"]
        elif not charge_id:
            raise StripeError(
                400, "One of `charge` or `payment_intent` is required.", code="parameter_missing"
            )
        assert charge_id is not None
        charge = self.get("charge", charge_id, account, param="charge")
        if charge["status"] != "succeeded":
            raise StripeError(400, "Cannot refund a failed payment.", code="charge_not_refundable")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeError(
                400,
                f"Charge {charge_id} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = as_int(params, "amount")
        amount = remaining if amount is None else amount
        if amount <= 0:
            raise StripeError(
                400, "Invalid positive integer", code="parameter_invalid_integer", param="amount"
            )
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({amount} {charge['currency']}) is greater than unrefunded "
                f"amount on charge ({remaining} {charge['currency']})",
                code="amount_too_large",
                param="amount",
            )
        reason = as_str(params, "reason")
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise StripeError(400, f"Invalid reason: {reason}", param="reason")
        refund: Obj = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge_id,
            "created": self.now(),
            "currency": charge["currency"],
            "metadata": as_metadata(params) or {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
        }
        self._put(account, refund)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self.emit("refund.created", refund, account, request)
        self.emit("charge.refunded", charge, account, request, previous)
        return copy.deepcopy(refund)

    def list_refunds(self, account: str | None, params: Params) -> Obj:
        unknown_parameters(
            params, {"payment_intent", "charge", "limit", "starting_after", "ending_before"}
        )
        refunds = sorted(self.owned("refund", account), key=lambda r: -r["created"])
        if intent := as_str(params, "payment_intent"):
            refunds = [r for r in refunds if r["payment_intent"] == intent]
        if charge := as_str(params, "charge"):
            refunds = [r for r in refunds if r["charge"] == charge]
        return self.page("/v1/refunds", refunds, params)


def _within(moment: int, bounds: Mapping[str, int | None]) -> bool:
    gt, gte, lt, lte = (bounds.get(op) for op in ("gt", "gte", "lt", "lte"))
    return (
        (gt is None or moment > gt)
        and (gte is None or moment >= gte)
        and (lt is None or moment < lt)
        and (lte is None or moment <= lte)
    )


def _requirements(due: list[str]) -> Obj:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def _unexpected_state(intent: Obj, action: str) -> StripeError:
    return StripeError(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
        code="payment_intent_unexpected_state",
        extra={"payment_intent": copy.deepcopy(intent)},
    )
