#!/usr/bin/env python3
"""Writes openapi/openapi.json, the API's OpenAPI 3.1 document.

The document is generated so that shared components and examples stay consistent: change this file,
then run `python3 openapi/gen.py` and commit both: `make test` fails when the committed document is
not what this writes. A test checks the document against the routers.
"""
import copy
import json
import re
import sys
from pathlib import Path

OUT = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("openapi.json"))


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def pref(name):
    return {"$ref": f"#/components/parameters/{name}"}


def rref(name):
    return {"$ref": f"#/components/responses/{name}"}


def href(name):
    return {"$ref": f"#/components/headers/{name}"}


def nullable(schema):
    """The same schema, also allowing null."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    s = copy.deepcopy(schema)
    t = s.get("type")
    if isinstance(t, str):
        s["type"] = [t, "null"]
    if "enum" in s:
        s["enum"] = s["enum"] + [None]
    return s


def with_(schema, **extra):
    s = copy.deepcopy(schema)
    s.update(extra)
    return s


def obj(props, required=None, description=None, strict=True, example=None, title=None):
    s = {"type": "object"}
    if title:
        s["title"] = title
    if description:
        s["description"] = description
    s["properties"] = props
    req = list(props.keys()) if required is None else required
    if req:
        s["required"] = req
    if strict:
        s["additionalProperties"] = False
    if example is not None:
        s["examples"] = [example]
    return s


# --------------------------------------------------------------------------------------------
# Primitive field schemas (inlined where used)
# --------------------------------------------------------------------------------------------

ID = {
    "type": "string",
    "description": "Opaque, time-sortable identifier (a ULID in canonical upper-case form).",
    "minLength": 26,
    "maxLength": 26,
    "pattern": "^[0-7][0-9A-HJKMNP-TV-Z]{25}$",
}
EMAIL = {"type": "string", "format": "email", "maxLength": 254,
         "description": "Trimmed and stored lower-cased; unique across users."}
PHONE = {"type": "string", "pattern": "^\\+[1-9][0-9]{7,14}$",
         "description": "E.164: `+`, country code and subscriber number (8 to 15 digits)."}
# Text a person types. Control characters (Unicode general category Cc: line feed, tab, escape …) and
# format characters (Cf: the bidirectional overrides and isolates, zero-width characters, the soft
# hyphen, the invisible tag characters …) are refused: they smuggle extra lines into an SMS or make
# text read otherwise on screen than it is stored. Cf is listed as Unicode 16 has it, as the server's
# general-category table does; a contract test (tests/contract, text.rs) holds the document and the
# server to the same answer for every code point. Code points above U+FFFF are written as the
# characters themselves (JSON Schema's ECMA-262 patterns and Python's re share no escape for them);
# the document escapes them as JSON surrogate pairs, so no invisible character is written raw.
_CC = "\\u0000-\\u001F\\u007F-\\u009F"
_CC_BUT_LF = "\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F"
_CF = ("\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891\\u08E2\\u180E\\u200B-\\u200F\\u202A-\\u202E"
       "\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB"
       "\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A"
       "\U000E0001\U000E0020-\U000E007F")
# Line and paragraph separators: line breaks too, so not in one-line text.
_SEPARATORS = "\\u2028\\u2029"
# White space that trimming removes and that is not a control character.
_SPACE = "\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u202F\\u205F\\u3000"
# One line (names, addresses, dish names): not blank, nothing of the above anywhere.
_ONE = f"[^{_CC}{_CF}{_SEPARATORS}]"
ONE_LINE_PATTERN = f"^{_ONE}*[^{_CC}{_CF}{_SEPARATORS}{_SPACE}]{_ONE}*$"
# Several lines (a cancel reason; a description, which may also be empty): line feeds allowed.
_MANY = f"[^{_CC_BUT_LF}{_CF}]"
LINES_PATTERN = f"^{_MANY}*[^{_CC}{_CF}{_SEPARATORS}{_SPACE}]{_MANY}*$"
MAYBE_EMPTY_LINES_PATTERN = f"^{_MANY}*$"
ONE_LINE_RULE = ("one line: no line breaks, tabs or other control characters, and no invisible formatting "
                 "characters (Unicode category Cf, such as U+202E or U+200B); accents and combining marks are "
                 "letters and are kept")
LINES_RULE = ("may hold line breaks (U+000A), but no other control character and no invisible formatting "
              "character (Unicode category Cf, such as U+202E or U+200B)")
# The same text as the API answers it: written since 2026-12 under the rules above, but a value stored
# earlier is shown as it was stored, under the rule of its time (no control characters but line breaks).
_OLD_CONTROL = "\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F"
_OLD_SPACE = "\\u000A\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"
STORED_TEXT_PATTERN = f"^[^{_OLD_CONTROL}]*[^{_OLD_CONTROL}{_OLD_SPACE}][^{_OLD_CONTROL}]*$"
STORED_NOTE = ("Values written since 2026-12 follow the rule of the request bodies (no control characters, no "
               "formatting characters); one stored earlier is shown as it was stored, and may hold line breaks or "
               "formatting characters.")
# Search text: anything with at least one character that is not white space (the server folds runs
# of white space to one space and compares case-insensitively).
SEARCH = {"type": "string", "minLength": 1, "maxLength": 100,
          "pattern": "[^\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]",
          "description": "Not blank; runs of white space count as one space."}
PERSON_NAME = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": ONE_LINE_PATTERN,
               "description": f"Trimmed; must not be blank; {ONE_LINE_RULE}."}
ADDRESS = {"type": "string", "minLength": 1, "maxLength": 500, "pattern": ONE_LINE_PATTERN,
           "description": f"Trimmed; must not be blank; {ONE_LINE_RULE} (separate its parts with commas)."}
NEW_PASSWORD = {"type": "string", "format": "password", "minLength": 8, "maxLength": 128,
                "description": "8 to 128 characters (counted as Unicode scalar values)."}
DAILY = {"type": "integer", "minimum": 1, "maximum": 10000}
DATE = {"type": "string", "format": "date"}
TIMESTAMP = {"type": "string", "format": "date-time", "description": "RFC 3339, UTC."}
MONEY = {"type": "integer", "minimum": 0,
         "description": "Integer count of the currency's minor unit (kobo for NGN)."}
PRICE = {"type": "integer", "minimum": 1, "maximum": 100000000,
         "description": "Price in kobo (1 to 100,000,000, i.e. up to ₦1,000,000.00)."}
QUANTITY = {"type": "integer", "minimum": 1, "maximum": 50}
DISH_NAME = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": ONE_LINE_PATTERN,
             "description": f"Trimmed; unique among all dishes, compared case-insensitively; {ONE_LINE_RULE}."}
DESCRIPTION = {"type": "string", "maxLength": 1000, "pattern": MAYBE_EMPTY_LINES_PATTERN,
               "description": f"Free text, trimmed; empty when there is none; {LINES_RULE}."}
TAG = {"type": "string", "minLength": 1, "maxLength": 30, "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
       "description": "Lower-case kebab-case word, e.g. `spicy`, `gluten-free`."}
TAGS = {"type": "array", "items": TAG, "maxItems": 10, "uniqueItems": True}
# Tags as a client sends them: any case (stored lower-cased), and a repeat counts once.
TAG_IN = with_(TAG, pattern="^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$",
               description="Words of letters or digits joined by single dashes, e.g. `spicy`, `gluten-free`; "
                           "any case, stored lower-cased.")
TAGS_IN = {"type": "array", "items": TAG_IN, "maxItems": 10,
           "description": "Up to 10; a repeat (in any case) is kept once."}
REASON = {"type": "string", "minLength": 1, "maxLength": 500, "pattern": LINES_PATTERN,
          "description": f"Trimmed; must not be blank; {LINES_RULE}."}
NOTE = {"type": "string", "minLength": 1, "maxLength": 280, "pattern": LINES_PATTERN,
        "description": f"Special instructions for the kitchen, up to 280 characters. Trimmed; must not be blank; "
                       f"{LINES_RULE}."}
# The text fields of User, Dish, CartLine, OrderItem and Order as the API answers them.
STORED_PERSON_NAME = with_(PERSON_NAME, pattern=STORED_TEXT_PATTERN, description=f"Trimmed, not blank. {STORED_NOTE}")
STORED_ADDRESS = with_(ADDRESS, pattern=STORED_TEXT_PATTERN, description=f"Trimmed, not blank. {STORED_NOTE}")
STORED_DISH_NAME = with_(DISH_NAME, pattern=STORED_TEXT_PATTERN,
                         description=f"Unique among all dishes, compared case-insensitively. {STORED_NOTE}")
STORED_DESCRIPTION = {"type": "string", "maxLength": 1000,
                      "description": f"Free text; empty when there is none. {STORED_NOTE}"}
REFERENCE = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9.=-]+$",
             "description": "Unique per payment attempt (a new ULID for each attempt); sent to Paystack as the transaction reference."}

# --------------------------------------------------------------------------------------------
# Example data
# --------------------------------------------------------------------------------------------

ADA_ID = "01JD3WZK5M8P1Q6S2T9V4X7Y3A"
ADMIN_ID = "01JD2A7K3N5P8Q1R4S6T9V2W0X"
CHINEDU_ID = "01JD41C6E8G2H5J7K9M3N6P8Q0"
JOLLOF_ID = "01JC9R4T2V8W6X3Y5Z7A1B2C3D"
AKARA_ID = "01JC9R7M4P6Q8S1T3V5W7X9Y2Z"
LINE_ID = "01JD3X2A7C9E1G3H5J7K9M2N4P"
ORDER_ID = "01JD3X8Q4W7N2R5T9V6B0C1E2F"
ADMIN_ORDER_ID = "01JD42F3H5K7M9N1P3Q5R7S9T1"
REF = "01JD3XB2N6P8R4S7T1V5W9X3YZ"
ADDRESS_EX = "12 Admiralty Way, Lekki Phase 1, Lagos"

EX_USER = {
    "id": ADA_ID, "email": "ada.obi@example.com", "first_name": "Ada", "last_name": "Obi",
    "phone": "+2348012345678", "address": ADDRESS_EX, "gender": "female", "role": "customer",
    "active": True, "email_verified": True, "sms_opt_out": False, "created_at": "2026-11-20T08:14:03Z",
}
EX_PHONE_USER = {
    "id": CHINEDU_ID, "email": None, "first_name": "Chinedu", "last_name": "Eze",
    "phone": "+2348098765432", "address": "4 Ojuelegba Road, Surulere, Lagos", "gender": "unspecified",
    "role": "customer", "active": True, "email_verified": True, "sms_opt_out": False,
    "created_at": "2026-11-23T10:02:44Z",
}
EX_TOKENS = {
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMUpEM1daSzVNOFAxUTZTMlQ5VjRYN1kzQSJ9.c2lnbmF0dXJl",
    "refresh_token": f"{ADA_ID}.01JD3X0B4D6F8H2K4M6P8R0T2V.a2l0Y2hlbi1leGFtcGxlLXJlZnJlc2gtc2VjcmV0ISE",
    "token_type": "Bearer",
    "expires_in": 1800,
}
EX_SIGNED_IN = {"user": EX_USER, **EX_TOKENS}
EX_DISH = {
    "id": JOLLOF_ID, "name": "Jollof rice with chicken",
    "description": "Smoky party jollof with grilled chicken thigh and fried plantain.",
    "price": 250000, "currency": "NGN", "dish_type": "lunch", "tags": ["rice", "spicy"],
    "available_from": "2026-11-01", "available_until": None, "active": True, "daily_portions": 40,
    "created_at": "2026-10-28T09:00:00Z", "updated_at": "2026-11-02T15:30:12Z",
}
EX_DISH2 = {
    "id": AKARA_ID, "name": "Akara and pap", "description": "Bean fritters with warm ogi.",
    "price": 120000, "currency": "NGN", "dish_type": "breakfast", "tags": ["vegetarian"],
    "available_from": "2026-11-01", "available_until": "2026-12-31", "active": True, "daily_portions": None,
    "created_at": "2026-10-28T09:05:00Z", "updated_at": "2026-10-28T09:05:00Z",
}
EX_MENU_DISH = dict(EX_DISH, date="2026-11-24", portions_left=12, sold_out=False, ordering_open=True)
EX_MENU_DISH2 = dict(EX_DISH2, date="2026-11-24", portions_left=None, sold_out=False, ordering_open=True)
EX_LINE = {"id": LINE_ID, "dish_id": JOLLOF_ID, "dish_name": "Jollof rice with chicken",
           "unit_price": 250000, "quantity": 2, "line_total": 500000, "currency": "NGN"}
EX_CART = {"items": [EX_LINE], "total": 500000, "currency": "NGN"}
EX_ITEM = {"dish_id": JOLLOF_ID, "dish_name": "Jollof rice with chicken", "unit_price": 250000,
           "quantity": 1, "line_total": 250000, "currency": "NGN"}
EX_ORDER = {
    "id": ORDER_ID, "user_id": ADA_ID, "status": "pending_payment", "items": [EX_ITEM],
    "total": 250000, "currency": "NGN", "delivery_date": "2026-11-24", "delivery_address": ADDRESS_EX,
    "placed_by": "customer", "created_at": "2026-11-23T09:14:20Z", "updated_at": "2026-11-23T09:14:20Z",
    "paid_at": None,
    "note": "No pepper in the stew, please.",
    "status_history": [{"status": "pending_payment", "at": "2026-11-23T09:14:20Z", "by": "customer", "note": None}],
    "refund_due": False, "cancel_reason": None, "refunded_amount": 0,
}
EX_ORDER_PREPARING = dict(EX_ORDER, status="preparing", updated_at="2026-11-24T07:45:00Z",
                          paid_at="2026-11-23T09:16:41Z", status_history=[
                              {"status": "pending_payment", "at": "2026-11-23T09:14:20Z", "by": "customer",
                               "note": None},
                              {"status": "paid", "at": "2026-11-23T09:16:41Z", "by": "system", "note": None},
                              {"status": "preparing", "at": "2026-11-24T07:45:00Z", "by": "admin",
                               "note": "Started early for the 12:00 run.", "admin_id": ADMIN_ID},
                          ])
EX_ADMIN_ORDER = dict(EX_ORDER, id=ADMIN_ORDER_ID, user_id=CHINEDU_ID, placed_by="admin",
                      delivery_address="4 Ojuelegba Road, Surulere, Lagos",
                      items=[dict(EX_ITEM, dish_id=AKARA_ID, dish_name="Akara and pap", unit_price=120000,
                                  quantity=3, line_total=360000)],
                      total=360000, created_at="2026-11-23T10:05:10Z", updated_at="2026-11-23T10:05:10Z",
                      note=None, status_history=[{"status": "pending_payment", "at": "2026-11-23T10:05:10Z",
                                                  "by": "admin", "note": None, "admin_id": ADMIN_ID}])
EX_PAYMENT = {
    "reference": REF, "order_id": ORDER_ID, "user_id": ADA_ID, "amount": 250000, "currency": "NGN",
    "status": "pending", "authorization_url": "https://checkout.paystack.com/0peioxfhpn",
    "access_code": "0peioxfhpn", "channel": None, "paid_at": None, "gateway_response": None,
    "created_at": "2026-11-23T09:15:58Z", "refund_due": False, "note": None, "refunded_amount": 0,
    "charged_amount": None, "dispute": None,
}
EX_PAYMENT_DONE = dict(EX_PAYMENT, status="success", channel="card", paid_at="2026-11-23T09:16:41Z",
                       gateway_response="Successful")
REFUND_ID = "01KB7Q2M8T4V6X0Z2B4D6F8H0J"
EX_REFUND = {
    "id": REFUND_ID, "payment_reference": REF, "order_id": ORDER_ID, "user_id": ADA_ID, "amount": 250000,
    "currency": "NGN", "status": "pending", "reason": "The kitchen could not cook this order.",
    "requested_by": "admin", "admin_id": "01JD3X6W2Y4A8C0E2G4J6L8N0Q", "paystack_id": 7000000001,
    "created_at": "2026-11-24T08:02:11Z", "updated_at": "2026-11-24T08:02:11Z", "processed_at": None,
}
EX_CURSOR = "eyJrIjoiMDFKRDNYOFE0VzdOMlI1VDlWNkIwQzFFMkYifQ.3d9a7c1f"

# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------

PROBLEMS = {
    400: ("bad-request", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload Too Large"),
    415: ("unsupported-media-type", "Unsupported Media Type"),
    422: ("unprocessable", "Unprocessable Entity"),
    429: ("too-many-requests", "Too Many Requests"),
    500: ("internal", "Internal Server Error"),
    502: ("bad-gateway", "Bad Gateway"),
    503: ("unavailable", "Service Unavailable"),
}


def problem_example(status, detail, errors=None):
    slug, title = PROBLEMS[status]
    ex = {"type": f"urn:kitchen:problem:{slug}", "title": title, "status": status, "detail": detail}
    if errors:
        ex["errors"] = [{"field": f, "message": m} for f, m in errors]
    return ex


def problem(status, description, cases):
    """cases: list of (name, summary, detail, errors) or a single (detail, errors) tuple."""
    content = {"schema": ref("Problem")}
    if isinstance(cases, tuple):
        content["example"] = problem_example(status, cases[0], cases[1] if len(cases) > 1 else None)
    else:
        content["examples"] = {
            name: {"summary": summary, "value": problem_example(status, detail, errors)}
            for name, summary, detail, errors in cases
        }
    resp = {"description": description}
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = href("WWW-Authenticate")
    if status in (429, 503):
        headers["Retry-After"] = href("Retry-After")
    if headers:
        resp["headers"] = headers
    resp["content"] = {"application/problem+json": content}
    return resp


MALFORMED = ("malformed", "Body is not valid JSON", "request body is not valid JSON: expected value", None)


def unknown_field(field, expected):
    exp = ", ".join(f"`{e}`" for e in expected)
    msg = f"unknown field `{field}`, expected one of {exp}"
    return ("unknown_field", f"Unknown field `{field}`", f"{field}: {msg}", [(field, msg)])


def invalid(name, summary, field, message):
    return (name, summary, f"{field}: {message}", [(field, message)])


def bad_body(*cases):
    return problem(400, "The body is not valid JSON, or a field is missing, of the wrong type, invalid or unknown. "
                        "`errors` names each field at fault.", list(cases) + [MALFORMED])


def bad_query(*cases):
    return problem(400, "A query parameter is invalid or unknown, or the cursor is not one this list issued.",
                   list(cases) + [("cursor", "Tampered or foreign cursor", "cursor: is not a cursor of this list",
                                   [("cursor", "is not a cursor of this list")])])


LIMIT_CASE = invalid("limit", "Limit out of range", "limit", "must be between 1 and 100")


def not_found(what):
    return problem(404, f"No such {what}, or it belongs to another user (the two are indistinguishable).",
                   (f"{what} not found",))


def admin_not_found(what):
    return problem(404, f"No such {what}.", (f"{what} not found",))


# --------------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------------

schemas = {}

schemas["Problem"] = {
    "type": "object",
    "description": "An RFC 9457 problem document, sent as `application/problem+json`.",
    "properties": {
        "type": {"type": "string", "pattern": "^urn:kitchen:problem:[a-z-]+$",
                 "description": "`urn:kitchen:problem:<slug>`; slugs: bad-request, unauthorized, forbidden, email-unverified, not-found, "
                                "method-not-allowed, conflict, payload-too-large, unsupported-media-type, unprocessable, "
                                "too-many-requests, bad-gateway, unavailable, internal."},
        "title": {"type": "string", "description": "The status code's reason phrase."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong with this request. Server errors say nothing internal."},
        "errors": {"type": "array", "items": ref("FieldError"), "minItems": 1,
                   "description": "Present only when particular fields are at fault (400 validation failures, some 422s)."},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": False,
    "examples": [problem_example(400, "quantity: must be between 1 and 50", [("quantity", "must be between 1 and 50")])],
}
schemas["FieldError"] = obj({
    "field": {"type": "string", "description": "Path of the field, e.g. `email`, `items[0].quantity`."},
    "message": {"type": "string"},
}, description="One field at fault.")

schemas["Gender"] = {"type": "string", "enum": ["female", "male", "other", "unspecified"]}
schemas["Role"] = {"type": "string", "enum": ["customer", "admin"]}
schemas["Currency"] = {"type": "string", "enum": ["NGN"], "description": "ISO 4217 code; only NGN is accepted."}
schemas["DishType"] = {"type": "string", "enum": ["breakfast", "lunch", "dinner", "dessert", "other"]}
schemas["OrderStatus"] = {
    "type": "string",
    "enum": ["pending_payment", "paid", "preparing", "out_for_delivery", "delivered", "cancelled"],
    "description": "`pending_payment → paid → preparing → out_for_delivery → delivered`; `pending_payment → cancelled` "
                   "(customer or admin); `paid | preparing → cancelled` (admin only, sets `refund_due`). "
                   "Any other transition answers 409.",
}
schemas["PaymentStatus"] = {
    "type": "string", "enum": ["pending", "success", "failed", "abandoned"],
    "description": "`pending` until Paystack settles the charge (Paystack's `ongoing`, `pending`, `processing`, `queued`, "
                   "and `abandoned` for a checkout not finished yet, all read as `pending`). `success`: paid. `failed`: "
                   "declined (a later success on the same checkout still counts), or flagged (see `note`). `abandoned`: "
                   "the attempt's checkout link was never handed out (Paystack was unreachable, or a concurrent request "
                   "with the same `Idempotency-Key` answered instead), so it can never be paid.",
}
schemas["PaymentNote"] = {
    "type": "string",
    "enum": ["initialize_failed", "paystack_unreachable", "duplicate_request", "amount_mismatch", "currency_mismatch",
             "order_changed", "order_cancelled", "order_already_paid"],
    "description": "Why an attempt did not simply go `pending` → `success`. `initialize_failed` (`failed`): Paystack refused "
                   "to start it. `paystack_unreachable` (`abandoned`): Paystack did not answer in time. `duplicate_request` "
                   "(`abandoned`): another request with the same `Idempotency-Key` answered. `amount_mismatch`, "
                   "`currency_mismatch` (`failed`): Paystack reported a different amount or currency than ours; the order "
                   "stays unpaid. `order_changed` (`failed`): the order's total changed after the attempt started; the order "
                   "stays unpaid. `order_cancelled` (`success`): the money arrived after the order was cancelled or expired; "
                   "the order stays cancelled. `order_already_paid` (`success`): another attempt had already paid the order.",
}

schemas["User"] = obj({
    "id": ID,
    "email": nullable(EMAIL),
    "first_name": nullable(STORED_PERSON_NAME),
    "last_name": nullable(STORED_PERSON_NAME),
    "phone": nullable(PHONE),
    "address": nullable(STORED_ADDRESS),
    "gender": ref("Gender"),
    "role": ref("Role"),
    "active": {"type": "boolean"},
    "email_verified": {"type": "boolean",
                       "description": "Whether the holder of `email` has proven it (the link of a verification or reset "
                                      "email, or Google sign-in). True for a phone-only customer, who has no email. A "
                                      "customer needs it to place orders and pay."},
    "sms_opt_out": {"type": "boolean",
                    "description": "The customer asked for no SMS about their orders (`PATCH /me`; staff set it for a "
                                   "phone-only customer). The kitchen is still texted about their orders. False "
                                   "unless set."},
    "created_at": TIMESTAMP,
}, description="A user. `email` is null for phone-only customers created by staff. Never carries a password.",
    example=EX_USER)

# A refresh token: the user's id, the session's id and 32 random bytes (base64url, unpadded). Clients
# need not look inside; the pattern lets them (and `POST /auth/logout`) tell one from a typo.
REFRESH_TOKEN = {"type": "string",
                 "pattern": "^[0-7][0-9A-HJKMNP-TV-Z]{25}\\.[0-7][0-9A-HJKMNP-TV-Z]{25}\\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"}
TOKEN_PROPS = {
    "access_token": {"type": "string", "description": "JWT to send as `Authorization: Bearer <access_token>`."},
    "refresh_token": with_(REFRESH_TOKEN, description="Works once, at `POST /auth/refresh`."),
    "token_type": {"type": "string", "const": "Bearer"},
    "expires_in": {"type": "integer", "minimum": 1, "description": "Seconds until the access token expires."},
}
schemas["TokenPair"] = obj(TOKEN_PROPS, description="A new access token and refresh token for the same session.",
                           example=EX_TOKENS)
# An Ed25519 public key (RFC 8037) as the JWKS publishes it; `kid` is its RFC 7638 thumbprint.
EX_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "F2NkPk8SXYuAzG2HivsAVToDa4xYyZHudEzsBmE9zLw",
          "kid": "MDDdjbJ3Q9r5IH0Y1FdOWZAJmkDZ8Xbb65q6NIFn8t0", "alg": "EdDSA", "use": "sig"}
BASE64URL_32 = {"type": "string", "pattern": "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"}
schemas["Jwk"] = obj({
    "kty": {"type": "string", "const": "OKP"},
    "crv": {"type": "string", "const": "Ed25519"},
    "x": with_(BASE64URL_32, description="The 32-byte public key, base64url without padding."),
    "kid": with_(BASE64URL_32, description="The key's id, as in the `kid` of the tokens it signed: its RFC 7638 "
                                           "thumbprint (SHA-256, base64url)."),
    "alg": {"type": "string", "const": "EdDSA"},
    "use": {"type": "string", "const": "sig"},
}, description="A public key access tokens are checked with.", example=EX_JWK)
schemas["Jwks"] = obj({"keys": {"type": "array", "items": ref("Jwk"), "minItems": 1, "maxItems": 2}},
                      description="The public keys access tokens are checked with (RFC 7517). Two while a signing "
                                  "key is being rotated.", example={"keys": [EX_JWK]})
schemas["SignedIn"] = obj(dict({"user": ref("User")}, **TOKEN_PROPS),
                          description="The signed-in user and the token pair of the new session.",
                          example=EX_SIGNED_IN)

schemas["Dish"] = obj({
    "id": ID,
    "name": STORED_DISH_NAME,
    "description": STORED_DESCRIPTION,
    "price": PRICE,
    "currency": ref("Currency"),
    "dish_type": ref("DishType"),
    "tags": TAGS,
    "available_from": with_(DATE, description="First delivery date the dish can be ordered for."),
    "available_until": nullable(with_(DATE, description="Last delivery date (inclusive); null for no end.")),
    "active": {"type": "boolean", "description": "Inactive dishes are hidden from the menu and cannot be ordered."},
    "daily_portions": nullable(with_(DAILY, description="Portions the kitchen cooks per delivery date; null for no "
                                                        "limit.")),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}, description="A dish on the menu. It is orderable on date D when active and `available_from ≤ D ≤ available_until`.",
    example=EX_DISH)

schemas["MenuDish"] = obj(dict(schemas["Dish"]["properties"], **{
    "date": with_(DATE, description="The delivery date the rest of these fields are for."),
    "portions_left": nullable({"type": "integer", "minimum": 0,
                               "description": "Portions still to be ordered that day; null without a limit."}),
    "sold_out": {"type": "boolean", "description": "`portions_left` is 0."},
    "ordering_open": {"type": "boolean",
                      "description": "Orders for that day are still taken (before its cut-off, not a closed date)."},
}), description="A dish as the menu shows it for one delivery date.", example=EX_MENU_DISH)

EX_KITCHEN = {"timezone": "Africa/Lagos", "order_cutoff": {"days_before": 1, "time": "18:00"},
              "max_orders_per_day": 60, "closed_dates": ["2026-12-25", "2026-12-26"]}
schemas["OrderCutoff"] = obj({
    "days_before": {"type": "integer", "minimum": 0, "maximum": 14,
                    "description": "Days before the delivery date that ordering for it closes."},
    "time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
             "description": "The kitchen's local time (HH:MM, 24-hour) it closes at."},
}, description="When ordering for a delivery date D closes: `days_before` days before D at `time`.",
    example={"days_before": 1, "time": "18:00"})
KITCHEN_PROPS = {
    "timezone": {"type": "string", "minLength": 1, "maxLength": 64,
                 "description": "IANA time zone name; the kitchen's dates and cut-off times are in it."},
    "order_cutoff": ref("OrderCutoff"),
    "max_orders_per_day": nullable(with_(DAILY, description="Orders taken per delivery date (those not "
                                                            "cancelled); null for no cap.")),
    "closed_dates": {"type": "array", "items": DATE, "maxItems": 366,
                     "description": "Dates the kitchen takes no orders for, in order."},
}
schemas["Kitchen"] = obj(dict(KITCHEN_PROPS, next_open_dates={
    "type": "array", "items": DATE, "maxItems": 7,
    "description": "The next dates, from today on, that still take orders."}),
    description="The kitchen's calendar. Until staff change it: cut-off `0` days before at `23:59` (a date takes "
                "orders until its own end), no closed dates, no cap.",
    example=dict(EX_KITCHEN, next_open_dates=["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28",
                                              "2026-11-29", "2026-11-30", "2026-12-01"]))
# The zones staff may choose: shared/src/domain/kitchen.rs's KITCHEN_ZONES (a contract test compares them).
KITCHEN_ZONES = ["Africa/Lagos", "Africa/Accra", "Africa/Abidjan", "Africa/Cairo", "Africa/Johannesburg",
                 "Africa/Kigali", "Africa/Nairobi", "UTC"]
schemas["KitchenPatch"] = obj(dict(KITCHEN_PROPS, timezone={
    "type": "string", "enum": KITCHEN_ZONES,
    "description": "One of the time zones of the countries Paystack serves, or UTC."}), required=[],
                              description="Only the fields present change; `max_orders_per_day: null` lifts the cap. "
                                          "Lowering a limit takes nothing from placed orders; it only stops new ones.",
                              example={"order_cutoff": {"days_before": 1, "time": "18:00"},
                                       "closed_dates": ["2026-12-25"]})

schemas["CartLine"] = obj({
    "id": ID,
    "dish_id": ID,
    "dish_name": STORED_DISH_NAME,
    "unit_price": with_(PRICE, description="The dish's current price, in kobo."),
    "quantity": QUANTITY,
    "line_total": with_(MONEY, description="`unit_price × quantity`, in kobo."),
    "currency": ref("Currency"),
}, description="One dish in the cart. Cart prices follow the dishes' current prices until checkout.", example=EX_LINE)
schemas["Cart"] = obj({
    "items": {"type": "array", "items": ref("CartLine"), "maxItems": 20},
    "total": with_(MONEY, description="Sum of the lines' totals, in kobo."),
    "currency": ref("Currency"),
}, description="The caller's cart: at most 20 lines; an empty cart has no items and total 0.", example=EX_CART)

schemas["OrderItem"] = obj({
    "dish_id": ID,
    "dish_name": STORED_DISH_NAME,
    "unit_price": with_(PRICE, description="The dish's price when the order was placed (or last edited), in kobo."),
    "quantity": QUANTITY,
    "line_total": with_(MONEY, description="`unit_price × quantity`, in kobo."),
    "currency": ref("Currency"),
}, description="A line of an order, priced when the order was placed; later price changes never touch it.",
    example=EX_ITEM)
schemas["StatusChange"] = obj({
    "status": ref("OrderStatus"),
    "at": TIMESTAMP,
    "by": {"type": "string", "enum": ["customer", "admin", "system"],
           "description": "Who made the change; `system` is a confirmed payment (webhook or verify)."},
    "note": nullable(with_(NOTE, description="What staff noted on the move; null if nothing.")),
    "admin_id": with_(ID, description="The staff member who made the change: only in the back office's view "
                                      "(`/admin/*`), never in the customer's."),
}, required=["status", "at", "by", "note"], description="One entry of an order's status history.")
schemas["Order"] = obj({
    "id": ID,
    "user_id": ID,
    "status": ref("OrderStatus"),
    "items": {"type": "array", "items": ref("OrderItem"), "minItems": 1, "maxItems": 20},
    "total": with_(MONEY, description="Sum of the items' totals, in kobo, computed by the server."),
    "currency": ref("Currency"),
    "delivery_date": DATE,
    "delivery_address": STORED_ADDRESS,
    "placed_by": {"type": "string", "enum": ["customer", "admin"]},
    "note": nullable(with_(NOTE, description="The customer's special instructions; null if none.")),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "paid_at": nullable(TIMESTAMP),
    "status_history": {"type": "array", "items": ref("StatusChange"), "minItems": 1,
                       "description": "Every status the order has had, oldest first; the first entry is `pending_payment`."},
    "refund_due": {"type": "boolean", "description": "True when staff cancelled the order after it was paid."},
    "cancel_reason": nullable(with_(REASON, pattern=STORED_TEXT_PATTERN,
                                    description=f"The reason staff gave when cancelling; null otherwise. {STORED_NOTE}")),
    "refunded_amount": with_(MONEY, description="What refunds not failed have given back of what was paid for the "
                                                "order, in kobo."),
    "refunds": {"type": "array", "items": ref("CustomerRefund"),
                "description": "Only on `GET /orders/{id}`: the order's refunds, oldest first."},
}, required=["id", "user_id", "status", "items", "total", "currency", "delivery_date", "delivery_address",
             "placed_by", "note", "created_at", "updated_at", "paid_at", "status_history", "refund_due", "cancel_reason",
             "refunded_amount"],
    description="An order. Nothing is ever hard-deleted; cancelled orders stay with status `cancelled`.",
    example=EX_ORDER)

schemas["Payment"] = obj({
    "reference": REFERENCE,
    "order_id": ID,
    "user_id": ID,
    "amount": with_(MONEY, minimum=1, description="The order's total when the attempt started, in kobo."),
    "currency": ref("Currency"),
    "status": ref("PaymentStatus"),
    "authorization_url": nullable({"type": "string", "format": "uri",
                                   "description": "Paystack's checkout page for this attempt; null if Paystack never "
                                                  "started it."}),
    "access_code": nullable({"type": "string", "description": "For Paystack's popup and mobile SDKs; null like "
                                                              "`authorization_url`."}),
    "channel": nullable({"type": "string", "description": "How the customer paid (`card`, `bank`, `ussd`, `bank_transfer`, …)."}),
    "paid_at": nullable(TIMESTAMP),
    "gateway_response": nullable({"type": "string", "description": "Paystack's message, e.g. `Successful`, `Declined`."}),
    "created_at": TIMESTAMP,
    "refund_due": {"type": "boolean",
                   "description": "Money was received that the order could not take (see `note`) and no refund has "
                                  "given it back yet: a refund is started at once, and the sweep retries one that "
                                  "Paystack could not take (money in another currency is refunded by staff)."},
    "note": nullable(ref("PaymentNote")),
    "refunded_amount": with_(MONEY, description="What refunds not failed have given back of this charge, in kobo; "
                                                "never more than what it took."),
    "charged_amount": nullable(with_(MONEY, description="What Paystack charged when it was not `amount` (note "
                                                        "`amount_mismatch`): what its automatic refund gives back.")),
    "dispute": nullable(ref("Dispute")),
    "refunds": {"type": "array", "items": ref("CustomerRefund"),
                "description": "Only on `GET /orders/{id}/payments`: the refunds of this attempt, oldest last."},
}, required=["reference", "order_id", "user_id", "amount", "currency", "status", "authorization_url", "access_code",
             "channel", "paid_at", "gateway_response", "created_at", "refund_due", "note", "refunded_amount",
             "charged_amount", "dispute"],
    description="One Paystack payment attempt for an order.", example=EX_PAYMENT)

schemas["Dispute"] = obj({
    "status": {"type": "string", "enum": ["open", "resolved"],
               "description": "`open` until Paystack reports it resolved."},
    "reason": nullable({"type": "string", "description": "What the customer told their bank, or the dispute's category."}),
    "due_at": nullable(with_(TIMESTAMP, description="When Paystack needs the kitchen's answer by.")),
    "resolution": nullable({"type": "string", "description": "How it ended (`merchant-accepted`, `declined`, "
                                                              "`auto-accepted`…), once resolved."}),
    "updated_at": TIMESTAMP,
}, description="A dispute (chargeback) on a charge, as Paystack's `charge.dispute.*` events last reported it.",
    example={"status": "open", "reason": "Customer complained about debit without value",
             "due_at": "2026-11-25T18:00:00Z", "resolution": None, "updated_at": "2026-11-24T13:46:57Z"})

schemas["RefundStatus"] = {
    "type": "string", "enum": ["pending", "processing", "needs_attention", "processed", "failed"],
    "description": "Where a refund stands at Paystack. It only moves forward: `pending → processing → "
                   "needs_attention → processed | failed` (steps may be skipped); `processed` and `failed` are final. "
                   "`needs_attention`: Paystack needs the customer's bank details to pay it back.",
}
schemas["Refund"] = obj({
    "id": ID,
    "payment_reference": REFERENCE,
    "order_id": ID,
    "user_id": ID,
    "amount": with_(MONEY, minimum=1, description="What this refund gives back, in kobo."),
    "currency": ref("Currency"),
    "status": ref("RefundStatus"),
    "reason": with_(REASON, pattern=STORED_TEXT_PATTERN, description="Why the money is given back."),
    "requested_by": {"type": "string", "enum": ["admin", "system"],
                     "description": "`system`: started without a person (a cancelled paid order, a charge the order could not take)."},
    "admin_id": nullable(with_(ID, description="The staff member who asked; null for `system`.")),
    "paystack_id": nullable({"type": "integer", "minimum": 1,
                             "description": "Paystack's id for the refund, from its answer to `POST /refund`."}),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "processed_at": nullable(with_(TIMESTAMP, description="When Paystack reported it processed.")),
}, description="Money given back of one successful charge, asked of Paystack.", example=EX_REFUND)
schemas["CustomerRefund"] = obj({
    "id": ID,
    "payment_reference": REFERENCE,
    "order_id": ID,
    "amount": with_(MONEY, minimum=1),
    "currency": ref("Currency"),
    "status": ref("RefundStatus"),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "processed_at": nullable(TIMESTAMP),
}, description="A refund as its customer sees it: amounts and statuses.",
    example={k: v for k, v in EX_REFUND.items() if k in ("id", "payment_reference", "order_id", "amount", "currency",
                                                          "status", "created_at", "updated_at", "processed_at")})
schemas["RefundRequest"] = obj({
    "amount": {"type": "integer", "minimum": 1, "maximum": 9007199254740991,
               "description": "In kobo; at most what is left to refund of the order's charge. Default: all of it."},
    "reason": with_(REASON, description="Why the money is given back (kept for the back office and sent to Paystack "
                                        "as the merchant note)."),
}, required=["reason"], description="A refund staff ask for.",
    example={"amount": 250000, "reason": "The kitchen could not cook this order."})

schemas["Health"] = obj({"status": {"type": "string", "const": "ok"}}, example={"status": "ok"})


def page(item, example_items):
    return obj({
        "items": {"type": "array", "items": ref(item), "maxItems": 100},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null on the last page."},
    }, description=f"One page of {item} objects.",
        example={"items": example_items, "next_cursor": EX_CURSOR})


schemas["DishPage"] = page("Dish", [EX_DISH, EX_DISH2])
schemas["MenuDishPage"] = page("MenuDish", [EX_MENU_DISH, EX_MENU_DISH2])
schemas["OrderPage"] = page("Order", [EX_ORDER])
schemas["PaymentPage"] = page("Payment", [EX_PAYMENT_DONE])
schemas["RefundPage"] = page("Refund", [EX_REFUND])
schemas["UserPage"] = page("User", [EX_PHONE_USER, EX_USER])

# ---- request bodies ------------------------------------------------------------------------

schemas["RegisterRequest"] = obj({
    "email": EMAIL,
    "password": NEW_PASSWORD,
    "first_name": PERSON_NAME,
    "last_name": PERSON_NAME,
    "phone": PHONE,
    "address": ADDRESS,
    "gender": ref("Gender"),
}, required=["email", "password"], example={
    "email": "ada.obi@example.com", "password": "jollof-on-sunday-42", "first_name": "Ada", "last_name": "Obi",
    "phone": "+2348012345678", "address": ADDRESS_EX, "gender": "female"})
schemas["LoginRequest"] = obj({
    "email": EMAIL,
    "password": {"type": "string", "format": "password",
                 "description": "Not length-checked here: a wrong password of any length is a 401."},
}, example={"email": "ada.obi@example.com", "password": "jollof-on-sunday-42"})
schemas["RefreshRequest"] = obj({"refresh_token": {"type": "string"}},
                                example={"refresh_token": EX_TOKENS["refresh_token"]})
schemas["LogoutRequest"] = obj({
    "refresh_token": with_(REFRESH_TOKEN, description="A refresh token of another of the caller's sessions, to end that "
                                                     "session too. One of another user's, or of no session, changes "
                                                     "nothing more."),
}, required=[], example={"refresh_token": EX_TOKENS["refresh_token"]})
schemas["GoogleSignInRequest"] = obj({
    "id_token": {"type": "string", "description": "A Google ID token (JWT) issued to this API's Google client id."},
}, example={"id_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjFmNDAifQ.eyJpc3MiOiJodHRwczovL2FjY291bnRzLmdvb2dsZS5jb20ifQ.c2ln"})
# A one-time token from a verification or reset link: the user's id and 32 random bytes (base64url,
# unpadded). The pattern is the shape only; whether it works is the server's to say (400).
LINK_TOKEN = {"type": "string", "description": "The `token` of the link in the email."}
schemas["VerifyEmailRequest"] = obj({"token": LINK_TOKEN},
                                    example={"token": f"{ADA_ID}.a2l0Y2hlbi1leGFtcGxlLXZlcmlmeS1zZWNyZXQhISE"})
schemas["EmailVerified"] = obj({"user": ref("User")}, description="The user, whose email is now verified.",
                               example={"user": EX_USER})
schemas["ForgotPassword"] = obj({"email": EMAIL}, example={"email": "ada.obi@example.com"})
schemas["ResetPassword"] = obj({"token": LINK_TOKEN, "new_password": NEW_PASSWORD},
                               example={"token": f"{ADA_ID}.a2l0Y2hlbi1leGFtcGxlLXJlc2V0LXNlY3JldCEhISEh",
                                        "new_password": "egusi-on-monday-7"})
schemas["ProfilePatch"] = obj({
    "first_name": nullable(PERSON_NAME),
    "last_name": nullable(PERSON_NAME),
    "phone": nullable(PHONE),
    "address": nullable(ADDRESS),
    "gender": ref("Gender"),
    "sms_opt_out": {"type": "boolean", "description": "true stops the SMS about the caller's orders; false resumes them."},
}, required=[], description="Only the fields present change; `null` clears a field (not `gender` or `sms_opt_out`, "
                            "which take a value or are left out). An empty object changes nothing. "
                            "`email`, `role` and `active` are not writable here (400).",
    example={"phone": "+2348012345678", "address": ADDRESS_EX})
schemas["PasswordChange"] = obj({
    "current_password": {"type": "string", "format": "password"},
    "new_password": NEW_PASSWORD,
}, example={"current_password": "jollof-on-sunday-42", "new_password": "egusi-on-monday-7"})

schemas["CartItemCreate"] = obj({"dish_id": ID, "quantity": QUANTITY},
                                example={"dish_id": JOLLOF_ID, "quantity": 2})
schemas["CartItemPatch"] = obj({"quantity": with_(QUANTITY, description="The line's new quantity (use DELETE to remove it).")},
                               example={"quantity": 3})
schemas["OrderLineInput"] = obj({"dish_id": ID, "quantity": QUANTITY},
                                description="A dish and how many. Prices and totals are never sent; the server computes them.",
                                example={"dish_id": JOLLOF_ID, "quantity": 1})
ORDER_LINES = {"type": "array", "items": ref("OrderLineInput"), "minItems": 1, "maxItems": 20,
               "description": "Each dish at most once."}
schemas["OrderCreate"] = obj({
    "delivery_date": with_(DATE, description="Today or later (kitchen time, Africa/Lagos)."),
    "delivery_address": ADDRESS,
    "items": with_(ORDER_LINES, description="Each dish at most once. Without `items` the caller's cart is checked out "
                                             "and emptied in the same transaction."),
    "note": NOTE,
}, required=["delivery_date", "delivery_address"], example={
    "delivery_date": "2026-11-24", "delivery_address": ADDRESS_EX, "items": [{"dish_id": JOLLOF_ID, "quantity": 1}],
    "note": "No pepper in the stew, please."})
schemas["OrderPatch"] = obj({
    "items": with_(ORDER_LINES, description="Replaces every line; totals are recomputed from current prices."),
    "delivery_date": with_(DATE, description="Today or later (kitchen time, Africa/Lagos)."),
    "delivery_address": ADDRESS,
    "note": nullable(with_(NOTE, description="A new note, or null to drop it. A change of the note alone is taken "
                                             "until the order is paid, even after ordering for its date closed.")),
}, required=[], description="Only while the order is `pending_payment`. Only the fields present change.",
    example={"delivery_date": "2026-11-25", "items": [{"dish_id": JOLLOF_ID, "quantity": 2}]})

schemas["DishCreate"] = obj({
    "name": DISH_NAME,
    "description": with_(DESCRIPTION, description="Defaults to the empty string."),
    "price": PRICE,
    "currency": ref("Currency"),
    "dish_type": ref("DishType"),
    "tags": with_(TAGS_IN, description="Defaults to none. Up to 10; a repeat (in any case) is kept once."),
    "available_from": DATE,
    "available_until": nullable(with_(DATE, description="Inclusive; not before `available_from`. Absent or null: no end.")),
    "active": {"type": "boolean", "default": True},
    "daily_portions": nullable(with_(DAILY, description="Portions per delivery date. Absent or null: no limit.")),
}, required=["name", "price", "currency", "dish_type", "available_from"], example={
    "name": "Egusi soup with pounded yam", "description": "Melon-seed soup with spinach and assorted meat.",
    "price": 300000, "currency": "NGN", "dish_type": "dinner", "tags": ["soup", "swallow"],
    "available_from": "2026-11-25", "available_until": None, "active": True})
schemas["DishPatch"] = obj({
    "name": DISH_NAME,
    "description": DESCRIPTION,
    "price": PRICE,
    "currency": ref("Currency"),
    "dish_type": ref("DishType"),
    "tags": with_(TAGS_IN, description="Replaces the dish's tags. Up to 10; a repeat (in any case) is kept once."),
    "available_from": DATE,
    "available_until": nullable(with_(DATE, description="Inclusive; null removes the end date.")),
    "active": {"type": "boolean"},
    "daily_portions": nullable(with_(DAILY, description="null lifts the limit. Lowered below what placed orders "
                                                        "hold, it takes nothing from them and stops new ones.")),
}, required=[], description="Only the fields present change. Existing orders keep the prices they were placed with.",
    example={"price": 275000, "available_until": "2026-12-24"})
schemas["AdminUserCreate"] = obj({
    "first_name": PERSON_NAME,
    "last_name": PERSON_NAME,
    "phone": PHONE,
    "address": ADDRESS,
    "email": EMAIL,
}, required=["first_name", "phone"], description="A customer who orders by phone; the account has no password.",
    example={"first_name": "Chinedu", "last_name": "Eze", "phone": "+2348098765432",
             "address": "4 Ojuelegba Road, Surulere, Lagos"})
schemas["AdminUserPatch"] = obj({
    "active": {"type": "boolean", "description": "false revokes every session of the user at once."},
    "role": ref("Role"),
    "first_name": nullable(PERSON_NAME),
    "last_name": nullable(PERSON_NAME),
    "phone": nullable(PHONE),
    "address": nullable(ADDRESS),
    "sms_opt_out": {"type": "boolean",
                    "description": "For a phone-only customer (no email), on their word: true stops the SMS about "
                                   "their orders, false resumes them. A user with an email sets it themself "
                                   "(`PATCH /me`); staff setting it answer 422."},
}, required=[], description="Only the fields present change; `null` clears a field. An admin cannot deactivate or "
                            "demote themself (409).", example={"active": False})
schemas["AdminOrderCreate"] = obj({
    "user_id": with_(ID, description="The customer the order is for."),
    "items": ORDER_LINES,
    "delivery_date": with_(DATE, description="Today or later (kitchen time, Africa/Lagos)."),
    "delivery_address": ADDRESS,
    "note": with_(NOTE, description="The customer's special instructions, as staff took them down."),
}, required=["user_id", "items", "delivery_date", "delivery_address"],
    example={"user_id": CHINEDU_ID, "items": [{"dish_id": AKARA_ID, "quantity": 3}], "delivery_date": "2026-11-24",
            "delivery_address": "4 Ojuelegba Road, Surulere, Lagos"})
STATUS_NOTE = with_(NOTE, description="What the staff member notes on the move, kept in the order's "
                                      "`status_history` (the customer sees it).")
schemas["OrderStatusChange"] = {
    "description": "The next status (`paid` is set only by a confirmed payment). `reason` goes only with `cancelled`, "
                   "and is shown to the customer as `cancel_reason`. `note` goes with any move.",
    "oneOf": [
        obj({"status": {"type": "string", "enum": ["preparing", "out_for_delivery", "delivered"]},
             "note": STATUS_NOTE}, required=["status"], title="Move along"),
        obj({"status": {"type": "string", "const": "cancelled"},
             "reason": with_(REASON, description="Why; shown to the customer as `cancel_reason`."),
             "note": STATUS_NOTE},
            required=["status"], title="Cancel"),
    ],
    "examples": [{"status": "cancelled", "reason": "Out of chicken today; refund on its way."}],
}

# ---- Paystack webhook ----------------------------------------------------------------------

schemas["PaystackTransaction"] = {
    "type": "object",
    "description": "Paystack's transaction object (as `GET /transaction/verify` returns it). Only the fields listed "
                   "are read; others are ignored.",
    "properties": {
        "id": {"type": "integer", "format": "int64", "description": "Paystack's id; exceeds 32 bits."},
        "domain": {"type": "string", "enum": ["test", "live"]},
        "status": {"type": "string", "examples": ["success"]},
        "reference": {"type": "string", "description": "Our payment reference."},
        "amount": {"type": "integer", "description": "In the currency's minor unit; must equal the payment's amount."},
        "currency": {"type": "string", "description": "Must equal the payment's currency."},
        "channel": {"type": ["string", "null"]},
        "gateway_response": {"type": ["string", "null"]},
        "paid_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "metadata": {"type": ["object", "string", "null"], "description": "Our `order_id` and `user_id`; may be `\"\"`."},
        "customer": {"type": "object", "properties": {"email": {"type": "string"}}},
    },
    "required": ["reference", "amount", "currency", "status"],
    "additionalProperties": True,
}
schemas["ChargeSuccessEvent"] = {
    "type": "object",
    "properties": {"event": {"type": "string", "const": "charge.success"}, "data": ref("PaystackTransaction")},
    "required": ["event", "data"],
    "additionalProperties": True,
}
REFUND_EVENTS = ["refund.pending", "refund.processing", "refund.processed", "refund.failed",
                 "refund.needs-attention"]
schemas["PaystackRefundEventData"] = {
    "type": "object",
    "description": "Paystack's refund event data (its samples): no refund id, so the event is a signal to ask Paystack "
                   "(`GET /refund/{id}`) how each of our open refunds of that charge stands.",
    "properties": {
        "status": {"type": "string", "examples": ["processed"]},
        "transaction_reference": {"type": "string", "description": "The charge's reference (ours)."},
        "refund_reference": {"type": ["string", "null"], "description": "Null until processed."},
        "amount": {"type": ["integer", "string"], "description": "In kobo; a string in most of Paystack's samples."},
        "currency": {"type": "string"},
        "domain": {"type": "string", "enum": ["test", "live"]},
    },
    "required": ["transaction_reference"],
    "additionalProperties": True,
}
schemas["RefundEvent"] = {
    "type": "object",
    "properties": {"event": {"type": "string", "enum": REFUND_EVENTS}, "data": ref("PaystackRefundEventData")},
    "required": ["event", "data"],
    "additionalProperties": True,
}
DISPUTE_EVENTS = ["charge.dispute.create", "charge.dispute.remind", "charge.dispute.resolve"]
schemas["DisputeEvent"] = {
    "type": "object",
    "description": "A chargeback on one of our charges (Paystack's samples): recorded on the payment's `dispute`.",
    "properties": {
        "event": {"type": "string", "enum": DISPUTE_EVENTS},
        "data": {"type": "object", "properties": {
            "status": {"type": "string", "examples": ["awaiting-merchant-feedback", "resolved"]},
            "resolution": {"type": ["string", "null"]},
            "category": {"type": ["string", "null"]},
            "dueAt": {"type": ["string", "null"], "format": "date-time"},
            "transaction": ref("PaystackTransaction"),
            "domain": {"type": "string", "enum": ["test", "live"]},
        }, "additionalProperties": True},
    },
    "required": ["event", "data"],
    "additionalProperties": True,
}
schemas["OtherPaystackEvent"] = {
    "type": "object",
    "description": "Any other event (`transfer.success`, …): acknowledged with 200 and logged.",
    "properties": {"event": {"type": "string", "not": {"enum": ["charge.success"] + REFUND_EVENTS + DISPUTE_EVENTS}},
                   "data": {"type": "object"}},
    "required": ["event", "data"],
    "additionalProperties": True,
}
schemas["PaystackEvent"] = {"oneOf": [ref("ChargeSuccessEvent"), ref("RefundEvent"), ref("DisputeEvent"),
                                      ref("OtherPaystackEvent")]}
schemas["WebhookAck"] = obj({"received": {"type": "boolean", "const": True}}, example={"received": True})

EX_WEBHOOK = {
    "event": "charge.success",
    "data": {
        "id": 4099260516, "domain": "test", "status": "success", "reference": REF, "amount": 250000,
        "message": None, "gateway_response": "Successful", "paid_at": "2026-11-23T09:16:41.000Z",
        "created_at": "2026-11-23T09:15:58.000Z", "channel": "card", "currency": "NGN", "ip_address": "102.89.34.10",
        "metadata": {"order_id": ORDER_ID, "user_id": ADA_ID}, "log": None, "fees": 3750,
        "authorization": {"authorization_code": "AUTH_72btv547ye", "last4": "4081", "channel": "card",
                          "brand": "visa", "bank": "TEST BANK", "reusable": True},
        "customer": {"id": 181873746, "first_name": "Ada", "last_name": "Obi", "email": "ada.obi@example.com",
                     "customer_code": "CUS_1rkzaqsv4rrhqo6", "phone": "+2348012345678"},
        "paidAt": "2026-11-23T09:16:41.000Z", "requested_amount": 250000,
    },
}

# ---- parameters, headers, shared responses -------------------------------------------------

parameters = {
    "Limit": {"name": "limit", "in": "query", "required": False, "description": "Page size.",
              "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    "Cursor": {"name": "cursor", "in": "query", "required": False,
               "description": "`next_cursor` from the previous page of the same list with the same filters.",
               "schema": {"type": "string", "minLength": 1, "maxLength": 1024}},
    "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "Any client string of visible ASCII characters and spaces (a UUID, say). "
                                      "Repeating a successful request with the same key within 24 h returns the "
                                      "first response and creates nothing new.",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                                  "pattern": "^[ -~]*[!-~][ -~]*$"},
                       "example": "3f0b6c2e-8a41-4d7e-9c55-1b2a7e9d4f60"},
}


def path_param(name, what, example):
    return {"name": name, "in": "path", "required": True,
            "description": f"{what}. A malformed id answers 404, like an unknown one.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 100}, "example": example}


parameters["DishId"] = path_param("id", "The dish's id", JOLLOF_ID)
parameters["OrderId"] = path_param("id", "The order's id", ORDER_ID)
parameters["UserId"] = path_param("id", "The user's id", CHINEDU_ID)
parameters["LineId"] = path_param("line_id", "The cart line's id", LINE_ID)
parameters["Reference"] = dict(path_param("reference", "The payment's reference", REF),
                               description="The payment's reference. An unknown one, or another user's, answers 404.")

headers = {
    "WWW-Authenticate": {"description": "Always `Bearer`.", "schema": {"type": "string", "const": "Bearer"}},
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 0},
                    "example": 2},
    "Location": {"description": "Path of the created resource.", "schema": {"type": "string", "format": "uri-reference"}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored response of an earlier request with the "
                                           "same `Idempotency-Key`; absent otherwise.",
                            "schema": {"type": "string", "const": "true"}},
}

responses = {
    "Unauthorized": problem(401, "Missing, malformed, expired or revoked access token.", [
        ("missing", "No Authorization header", "missing bearer token", None),
        ("expired", "Access token expired", "access token expired", None),
        ("revoked", "Session ended (logout, password change, deactivation)", "session is no longer valid", None),
    ]),
    "AdminOnly": problem(403, "The caller is signed in but is not an admin.", ("this route is for the kitchen's staff",)),
    "PayloadTooLarge": problem(413, "The request body is larger than 64 KiB.", ("request body is larger than 65536 bytes",)),
    "UnsupportedMediaType": problem(415, "The body's `Content-Type` is not JSON (`application/json` or `application/*+json`). "
                                         "A body without a `Content-Type` is read as JSON.",
                                    ("request body must be JSON (Content-Type: application/json)",)),
    "Unavailable": problem(503, "The table (or Paystack) is unavailable or throttling; retry after `Retry-After` seconds.",
                           ("A service this request depends on is unavailable; retry shortly.",)),
    "BadGateway": problem(502, "Paystack answered with an error or something unexpected. Nothing changed; retry later.",
                          ("A service this request depends on failed.",)),
}

# --------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------

SEC = {
    "anyone": [],
    "user": [{"bearerAuth": []}],
    "admin": [{"bearerAuth": []}],
    "paystack": [{"paystackSignature": []}],
}


def json_resp(description, schema_name, example=None, headers_=None, examples=None):
    content = {"schema": ref(schema_name)}
    if examples:
        content["examples"] = {k: {"summary": s, "value": v} for k, (s, v) in examples.items()}
    elif example is not None:
        content["example"] = example
    r = {"description": description}
    if headers_:
        r["headers"] = headers_
    r["content"] = {"application/json": content}
    return r


def body(schema_name, example=None, required=True, description=None, examples=None):
    content = {"schema": ref(schema_name)}
    if examples:
        content["examples"] = {k: {"summary": s, "value": v} for k, (s, v) in examples.items()}
    elif example is not None:
        content["example"] = example
    b = {"required": required, "content": {"application/json": content}}
    if description:
        b["description"] = description
    return b


NO_CONTENT = {"description": "Done; no body."}
paths = {}
ORDER = []


def op(method, path, tag, op_id, summary, description, who, params=None, request=None, resps=None):
    o = {"tags": [tag], "summary": summary, "description": description, "operationId": op_id,
         "security": SEC[who]}
    if params:
        o["parameters"] = params
    if request:
        o["requestBody"] = request
    r = dict(resps or {})
    has_body = request is not None
    if has_body:
        r.setdefault("413", rref("PayloadTooLarge"))
        r.setdefault("415", rref("UnsupportedMediaType"))
    if who in ("user", "admin"):
        r.setdefault("401", rref("Unauthorized"))
    if who == "admin":
        r.setdefault("403", rref("AdminOnly"))
    o["responses"] = dict(sorted(r.items(), key=lambda kv: (kv[0] == "default", kv[0])))
    paths.setdefault(path, {})[method] = o
    ORDER.append((method.upper(), path))


UNAVAIL = {"503": rref("Unavailable")}
EMAIL_UNVERIFIED = {
    "description": "The caller is a customer whose email is not verified yet (`type` "
                   "`urn:kitchen:problem:email-unverified`): open the link of the verification email, or ask for "
                   "another with `POST /auth/email/resend`.",
    "content": {"application/problem+json": {"schema": ref("Problem"), "example": {
        "type": "urn:kitchen:problem:email-unverified", "title": "Forbidden", "status": 403,
        "detail": "confirm your email address first: open the link we emailed you, or ask for a new one at "
                  "POST /auth/email/resend"}}},
}
LIST_PARAMS = [pref("Limit"), pref("Cursor")]

# ---- auth ----------------------------------------------------------------------------------

op("post", "/auth/register", "auth", "register", "Create an account with email and password",
   "Creates a customer account, signs it in, and emails a link that verifies the address (`email_verified` is false "
   "until it is used; placing orders and paying need it). Emails are stored lower-cased and must be unique.",
   "anyone", request=body("RegisterRequest", schemas["RegisterRequest"]["examples"][0]),
   resps={"201": json_resp("Account created and signed in.", "SignedIn", EX_SIGNED_IN),
          "400": bad_body(invalid("password", "Password too short", "password", "must be between 8 and 128 characters"),
                          invalid("email", "Bad email", "email", "must be an email address like name@example.com"),
                          invalid("phone", "Bad phone", "phone", "must be an E.164 phone number like +2348012345678"),
                          unknown_field("role", ["email", "password", "first_name", "last_name", "phone", "address", "gender"])),
          "409": problem(409, "An account with this email already exists.", ("an account with this email already exists",)),
          **UNAVAIL})

op("post", "/auth/login", "auth", "login", "Sign in with email and password",
   "Starts a new session. A wrong email and a wrong password get the same 401. Every attempt counts against its email "
   "before the password is checked: past `LOGIN_MAX_FAILURES` attempts in a window (5 in 15 minutes by default) the "
   "rest answer 429 with `Retry-After` unchecked, however many arrive at once. A successful sign-in clears the count.",
   "anyone", request=body("LoginRequest", schemas["LoginRequest"]["examples"][0]),
   resps={"200": json_resp("Signed in.", "SignedIn", EX_SIGNED_IN),
          "400": bad_body(invalid("email", "Bad email", "email", "must be an email address like name@example.com"),
                          ("missing", "Missing field", "password: missing field `password`",
                           [("password", "missing field `password`")])),
          "401": problem(401, "Wrong email or password.", ("email or password is wrong",)),
          "403": problem(403, "The account is deactivated.", ("this account is deactivated",)),
          "429": problem(429, "Too many failed sign-ins for this email; retry after `Retry-After` seconds.",
                         ("too many failed sign-ins for this email; try again later",)),
          **UNAVAIL})

op("post", "/auth/refresh", "auth", "refreshTokens", "Swap a refresh token for a new token pair",
   "Rotates the session's refresh token: the one presented stops working. Presenting a refresh token that this "
   "session issued and has since rotated is taken as theft: the answer is 401 and the whole session is revoked. Any "
   "other wrong token is a plain 401 that revokes nothing.",
   "anyone", request=body("RefreshRequest", schemas["RefreshRequest"]["examples"][0]),
   resps={"200": json_resp("A new token pair for the same session.", "TokenPair", EX_TOKENS),
          "400": bad_body(("missing", "Missing field", "refresh_token: missing field `refresh_token`",
                           [("refresh_token", "missing field `refresh_token`")])),
          "401": problem(401, "The refresh token is invalid, expired, or was already used (the session is then revoked).", [
              ("invalid", "Invalid or expired", "refresh token invalid or expired", None),
              ("reused", "Reuse detected", "refresh token was already used; the session is revoked", None)]),
          **UNAVAIL})

op("post", "/auth/logout", "auth", "logout", "Sign out",
   "Ends the caller's session: its access and refresh tokens answer 401 from then on. The body is optional; a "
   "`refresh_token` of another of the caller's sessions ends that session too.",
   "user", request=body("LogoutRequest", {}, required=False),
   resps={"204": NO_CONTENT,
          "400": bad_body(invalid("refresh_token", "Not a refresh token", "refresh_token", "is not a refresh token")),
          **UNAVAIL})

op("post", "/auth/google", "auth", "signInWithGoogle", "Sign in with a Google ID token",
   "Verifies the ID token against Google's published keys (signature, issuer, audience, expiry, verified email). "
   "The first sign-in creates the account. An existing account with the same email is linked to the Google account "
   "if its email is verified; if it is not, the Google identity (which has just proven the email) takes it over: its "
   "password is removed and every session it had ends.",
   "anyone", request=body("GoogleSignInRequest", schemas["GoogleSignInRequest"]["examples"][0]),
   resps={"200": json_resp("Signed in.", "SignedIn", EX_SIGNED_IN),
          "400": bad_body(("missing", "Missing field", "id_token: missing field `id_token`",
                           [("id_token", "missing field `id_token`")])),
          "401": problem(401, "The ID token was refused: bad signature, wrong audience or issuer, expired, unverified "
                              "email, or the email is linked to another Google account.", [
              ("expired", "Expired token", "ID token expired", None),
              ("linked", "Linked elsewhere", "this email is linked to another Google account", None)]),
          "403": problem(403, "The account is deactivated.", ("this account is deactivated",)),
          "502": problem(502, "Google's signing keys could not be fetched.", ("A service this request depends on failed.",)),
          **UNAVAIL})

BAD_LINK = ("bad", "Wrong, used or expired", "token: is wrong, already used or expired",
            [("token", "is wrong, already used or expired")])
HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}
LINK_PARAM = {"name": "token", "in": "query", "required": False,
              "description": "The link's token. Other query parameters (a mail client's tracking, say) are ignored.",
              "schema": {"type": "string"}}

op("post", "/auth/email/verify", "auth", "verifyEmail", "Verify the account's email with a link's token",
   "Uses the token of the link in a verification email (sent at sign-up, or by `POST /auth/email/resend`): the "
   "account's email is verified from now on. A token works once, for 48 hours, and only until a newer verification "
   "email replaces it.",
   "anyone", request=body("VerifyEmailRequest", schemas["VerifyEmailRequest"]["examples"][0]),
   resps={"200": json_resp("The email is verified.", "EmailVerified", {"user": EX_USER}),
          "400": bad_body(BAD_LINK, ("missing", "Missing field", "token: missing field `token`",
                                     [("token", "missing field `token`")])),
          **UNAVAIL})

op("get", "/auth/email/verify", "auth", "verifyEmailLink", "The verification email's link",
   "What the link in a verification email opens: verifies the email as `POST /auth/email/verify` does and answers a "
   "small HTML page saying so, or saying plainly that the link is wrong, used or expired (400).",
   "anyone", params=[LINK_PARAM],
   resps={"200": {"description": "The email is verified; a page says so.", "content": HTML_PAGE},
          "400": {"description": "The link is wrong, used or expired; a page says so.", "content": HTML_PAGE},
          "503": {"description": "The link could not be checked just now; a page asks to open it again.",
                  "headers": {"Retry-After": href("Retry-After")}, "content": HTML_PAGE}})

op("post", "/auth/email/resend", "auth", "resendVerificationEmail", "Send another verification email",
   "Emails the caller a new verification link, which replaces the older. At most one a minute.",
   "user",
   resps={"202": {"description": "The email is on its way."},
          "409": problem(409, "The caller's email is already verified (or the caller has none).",
                         ("this account's email is already verified",)),
          "429": problem(429, "A verification email went to the caller less than a minute ago; retry after "
                              "`Retry-After` seconds.",
                         ("a verification email was sent a moment ago; check your inbox",)),
          **UNAVAIL})

op("post", "/auth/password/forgot", "auth", "forgotPassword", "Ask for a password reset email",
   "Answers 202 whatever the email: an unknown, deactivated or phone-only address gets the same answer as an account's. "
   "For an active account with this email a reset link is emailed (at most 3 an hour for one address; further "
   "requests still answer 202 and send nothing). The link works once, for 30 minutes, and only until a newer one "
   "replaces it.",
   "anyone", request=body("ForgotPassword", schemas["ForgotPassword"]["examples"][0]),
   resps={"202": {"description": "If the email has an account, a reset email is on its way."},
          "400": bad_body(invalid("email", "Bad email", "email", "must be an email address like name@example.com")),
          **UNAVAIL})

op("post", "/auth/password/reset", "auth", "resetPassword", "Set a new password with a reset link's token",
   "Sets the new password, ends **every** session of the account (sign in again with the new password), and marks "
   "the email verified (the link reached it). The token works once.",
   "anyone", request=body("ResetPassword", schemas["ResetPassword"]["examples"][0]),
   resps={"204": NO_CONTENT,
          "400": bad_body(BAD_LINK, invalid("new_password", "New password too short", "new_password",
                                            "must be between 8 and 128 characters")),
          **UNAVAIL})

op("get", "/auth/password/reset", "auth", "resetPasswordLink", "The reset email's link",
   "What the link in a reset email opens: a small HTML form for the new password, which posts to "
   "`POST /auth/password/reset`; or a page saying plainly that the link is wrong, used or expired (400).",
   "anyone", params=[LINK_PARAM],
   resps={"200": {"description": "The form.", "content": HTML_PAGE},
          "400": {"description": "The link is wrong, used or expired; a page says so.", "content": HTML_PAGE},
          "503": {"description": "The link could not be checked just now; a page asks to open it again.",
                  "headers": {"Retry-After": href("Retry-After")}, "content": HTML_PAGE}})

op("get", "/.well-known/jwks.json", "auth", "getJwks", "The public keys of access tokens",
   "The keys access tokens are signed with (EdDSA, Ed25519), for anyone who checks a token: a token's `kid` names "
   "its key. During a key rotation two keys are listed; a new key is listed here for longer than the "
   "`Cache-Control` lifetime before any token is signed with it.", "anyone",
   resps={"200": json_resp("The key set.", "Jwks", {"keys": [EX_JWK]},
                           headers_={"Cache-Control": {"description": "How long the set may be cached.",
                                                       "schema": {"type": "string"},
                                                       "example": "public, max-age=300"}})})

op("get", "/me", "auth", "getMe", "The caller's profile", "The signed-in user.", "user",
   resps={"200": json_resp("The caller.", "User", EX_USER), **UNAVAIL})

op("patch", "/me", "auth", "updateMe", "Change the caller's profile",
   "Changes only the fields present; `null` clears `first_name`, `last_name`, `phone` or `address`. "
   "`email`, `role` and `active` are not writable here and answer 400 as unknown fields.",
   "user", request=body("ProfilePatch", examples={
       "set": ("Set phone and address", {"phone": "+2348012345678", "address": ADDRESS_EX}),
       "clear": ("Clear the last name", {"last_name": None}),
       "no_sms": ("Stop order SMS", {"sms_opt_out": True})}),
   resps={"200": json_resp("The updated profile.", "User", EX_USER),
          "400": bad_body(invalid("phone", "Bad phone", "phone", "must be an E.164 phone number like +2348012345678"),
                          invalid("sms_opt_out", "Opt-out not a boolean", "sms_opt_out",
                                  "invalid type: null, expected a boolean"),
                          unknown_field("role", ["first_name", "last_name", "phone", "address", "gender",
                                                 "sms_opt_out"])),
          **UNAVAIL})

op("post", "/me/password", "auth", "changePassword", "Change the caller's password",
   "Checks the current password, sets the new one and revokes every other session of the user (this one stays "
   "signed in); a sign-in or refresh racing the change leaves no live session behind. Attempts count towards the "
   "same limit as sign-ins, before the password is checked.",
   "user", request=body("PasswordChange", schemas["PasswordChange"]["examples"][0]),
   resps={"204": NO_CONTENT,
          "400": bad_body(invalid("new_password", "New password too short", "new_password",
                                  "must be between 8 and 128 characters")),
          "403": problem(403, "The current password is wrong.", ("current password is wrong",)),
          "409": problem(409, "The account signs in with Google only and has no password, or its credentials "
                              "changed during the request.",
                         ("this account signs in with Google and has no password",)),
          "429": problem(429, "Too many wrong passwords; retry after `Retry-After` seconds.",
                         ("too many wrong passwords; try again later",)),
          **UNAVAIL})

# ---- dishes --------------------------------------------------------------------------------

op("get", "/dishes", "dishes", "listDishes", "The menu for a delivery date",
   "Active dishes orderable on `date`, newest first.", "anyone",
   params=[
       {"name": "date", "in": "query", "required": False,
        "description": "Delivery date; defaults to today in the kitchen's time zone (Africa/Lagos).",
        "schema": DATE, "example": "2026-11-24"},
       {"name": "dish_type", "in": "query", "required": False, "schema": ref("DishType")},
       {"name": "tag", "in": "query", "required": False, "description": "Only dishes with this tag (any case).",
        "schema": TAG_IN,
        "example": "spicy"},
       {"name": "q", "in": "query", "required": False,
        "description": "Only dishes whose name contains this text, case-insensitively.",
        "schema": SEARCH, "example": "jollof"},
   ] + LIST_PARAMS,
   resps={"200": json_resp("A page of dishes, each with what is left of it that day.", "MenuDishPage",
                           schemas["MenuDishPage"]["examples"][0]),
          "400": bad_query(invalid("date", "Bad date", "date", "must be a date like 2026-11-24"), LIMIT_CASE),
          **UNAVAIL})

op("get", "/dishes/{id}", "dishes", "getDish", "One dish",
   "One active dish as the menu of `date` shows it; an inactive or unknown dish is 404.",
   "anyone", params=[pref("DishId"),
                     {"name": "date", "in": "query", "required": False,
                      "description": "Delivery date; defaults to today in the kitchen's time zone.",
                      "schema": DATE, "example": "2026-11-24"}],
   resps={"200": json_resp("The dish.", "MenuDish", EX_MENU_DISH),
          "400": bad_query(invalid("date", "Bad date", "date", "must be a date like 2026-11-24")),
          "404": problem(404, "No active dish has this id.", ("dish not found",)), **UNAVAIL})

op("get", "/kitchen", "dishes", "getKitchen", "The kitchen's calendar",
   "Time zone, order cut-off, closed dates, daily cap, and the next dates that still take orders.", "anyone",
   resps={"200": json_resp("The settings in force.", "Kitchen", schemas["Kitchen"]["examples"][0]), **UNAVAIL})

op("get", "/health", "dishes", "getHealth", "Health check", "200 when the table answers a read, else 503.", "anyone",
   resps={"200": json_resp("Healthy.", "Health", {"status": "ok"}), **UNAVAIL})

op("get", "/openapi.json", "dishes", "getOpenApiDocument", "This OpenAPI document", "The API's OpenAPI 3.1 document.",
   "anyone", resps={"200": {"description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})

op("get", "/docs", "dishes", "getDocsPage", "Interactive API page",
   "A self-contained HTML page that reads `/openapi.json` and lets you try every route.", "anyone",
   resps={"200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}})

# ---- orders --------------------------------------------------------------------------------

op("get", "/cart", "orders", "getCart", "The caller's cart",
   "The caller's cart, priced at the dishes' current prices.", "user",
   resps={"200": json_resp("The cart.", "Cart", EX_CART), **UNAVAIL})

op("post", "/cart/items", "orders", "addCartItem", "Add a dish to the cart",
   "Adds a line, or adds the quantity to the dish's existing line (201 for a new line, 200 for a grown one). "
   "The dish must be active. A cart holds at most 20 lines and a line at most 50.",
   "user", request=body("CartItemCreate", schemas["CartItemCreate"]["examples"][0]),
   resps={"200": json_resp("The dish was already in the cart; its line grew.", "CartLine", EX_LINE),
          "201": json_resp("A new line.", "CartLine", EX_LINE),
          "400": bad_body(invalid("quantity", "Quantity out of range", "quantity", "must be between 1 and 50"),
                          invalid("dish_id", "Malformed dish id", "dish_id", "is not a valid id")),
          "422": problem(422, "The dish is unknown or inactive, the cart already has 20 lines, or the line would exceed 50.", [
              ("dish", "Dish not orderable", "dish_id: no active dish has this id",
               [("dish_id", "no active dish has this id")]),
              ("full", "Cart full", "the cart already has 20 lines", None),
              ("too_many", "Line over 50", "quantity: the line would hold more than 50",
               [("quantity", "the line would hold more than 50")])]),
          **UNAVAIL})

op("patch", "/cart/items/{line_id}", "orders", "updateCartItem", "Change a cart line's quantity",
   "Sets the line's quantity.", "user", params=[pref("LineId")],
   request=body("CartItemPatch", schemas["CartItemPatch"]["examples"][0]),
   resps={"200": json_resp("The updated line.", "CartLine", dict(EX_LINE, quantity=3, line_total=750000)),
          "400": bad_body(invalid("quantity", "Quantity out of range", "quantity", "must be between 1 and 50")),
          "404": not_found("cart line"), **UNAVAIL})

op("delete", "/cart/items/{line_id}", "orders", "removeCartItem", "Remove a cart line", "Removes the line.", "user",
   params=[pref("LineId")], resps={"204": NO_CONTENT, "404": not_found("cart line"), **UNAVAIL})

# Why an order write is refused by the kitchen's calendar or capacity (orders, edits, staff orders).
CAPACITY_CASES = [
    ("sold_out", "Not enough portions left", "only 3 portions of Jollof rice with chicken are left for 2026-11-24",
     [("items[0].quantity", "only 3 portions of Jollof rice with chicken are left for 2026-11-24")]),
    ("cut_off", "Ordering for the date closed", "ordering for 2026-11-24 closed at 2026-11-23 18:00 Africa/Lagos",
     [("delivery_date", "ordering for 2026-11-24 closed at 2026-11-23 18:00 Africa/Lagos")]),
    ("closed", "Kitchen closed that day", "the kitchen is closed on 2026-12-25",
     [("delivery_date", "the kitchen is closed on 2026-12-25")]),
    ("full_day", "Daily cap reached", "the kitchen takes no more orders for 2026-11-24: all 60 are placed",
     [("delivery_date", "the kitchen takes no more orders for 2026-11-24: all 60 are placed")]),
]
TWICE = ("twice", "Dish listed twice", "items[1].dish_id: names a dish already in the order",
         [("items[1].dish_id", "names a dish already in the order")])
ORDER_422 = problem(422, "A dish is unknown, inactive, not orderable on `delivery_date` or listed twice, the date is in "
                         "the past, ordering for it closed (cut-off or closed date), the kitchen has not enough "
                         "portions left or reached its daily cap, or the cart is empty. `errors` names the dish or "
                         "date; nothing is written.", [TWICE,
    ("dish", "Dish not orderable that day", "Jollof rice with chicken cannot be ordered for 2026-11-24",
     [("items[0].dish_id", "Jollof rice with chicken cannot be ordered for 2026-11-24")]),
    ("past", "Date in the past", "delivery_date: must be today or later",
     [("delivery_date", "must be today or later")]),
    ("empty_cart", "Nothing to order", "the cart is empty", None),
    *CAPACITY_CASES,
    ("key_reuse", "Idempotency-Key reused", "this Idempotency-Key was used with a different request", None)])
IDEMP_409 = ("in_flight", "Same Idempotency-Key still running",
             "a request with this Idempotency-Key is still being processed", None)
ORDER_BAD = bad_body(invalid("quantity", "Quantity out of range", "items[0].quantity", "must be between 1 and 50"),
                     invalid("date", "Bad date", "delivery_date", "must be a date like 2026-11-24"),
                     unknown_field("total", ["delivery_date", "delivery_address", "items"]))

op("get", "/orders", "orders", "listOrders", "The caller's orders", "The caller's orders, newest first.", "user",
   params=[{"name": "status", "in": "query", "required": False, "schema": ref("OrderStatus")}] + LIST_PARAMS,
   resps={"200": json_resp("A page of orders.", "OrderPage", schemas["OrderPage"]["examples"][0]),
          "400": bad_query(LIMIT_CASE), **UNAVAIL})

op("post", "/orders", "orders", "placeOrder", "Place an order",
   "Places an order for `delivery_date` (`pending_payment`). With `items`, those dishes; without, the cart is checked "
   "out and emptied in the same transaction. Prices and totals are computed by the server from current prices; "
   "any client-sent price or total is an unknown field (400). Every dish must be active and orderable on "
   "`delivery_date`, which must not be in the past (422).",
   "user", params=[pref("IdempotencyKey")], request=body("OrderCreate", examples={
       "items": ("Order these dishes", schemas["OrderCreate"]["examples"][0]),
       "cart": ("Check out the cart", {"delivery_date": "2026-11-24", "delivery_address": ADDRESS_EX})}),
   resps={"201": json_resp("The order.", "Order", EX_ORDER, headers_={"Location": href("Location"),
                                                                       "Idempotent-Replayed": href("Idempotent-Replayed")}),
          "400": ORDER_BAD,
          "403": EMAIL_UNVERIFIED,
          "409": problem(409, "A request with the same `Idempotency-Key` is still being processed.", IDEMP_409[2:]),
          "422": ORDER_422, **UNAVAIL})

op("get", "/orders/{id}", "orders", "getOrder", "One of the caller's orders", "One order of the caller's.", "user",
   params=[pref("OrderId")],
   resps={"200": json_resp("The order.", "Order", EX_ORDER), "404": not_found("order"), **UNAVAIL})

op("patch", "/orders/{id}", "orders", "updateOrder", "Change an unpaid order",
   "Only while `pending_payment`. `items` replaces every line; totals are recomputed from current prices. Payment "
   "attempts started before the change no longer match the total and cannot pay the order: start a new one.",
   "user", params=[pref("OrderId")], request=body("OrderPatch", schemas["OrderPatch"]["examples"][0]),
   resps={"200": json_resp("The updated order.", "Order", EX_ORDER),
          "400": ORDER_BAD,
          "404": not_found("order"),
          "409": problem(409, "The order is no longer `pending_payment`, or changed concurrently.",
                         ("only an order awaiting payment can be changed",)),
          "422": problem(422, "A dish is unknown, inactive, not orderable on the delivery date or listed twice, the "
                              "date is in the past, ordering for the order's date or the new one closed, or the kitchen "
                              "has not enough left for the change.", [TWICE,
              ("dish", "Dish not orderable that day", "Jollof rice with chicken cannot be ordered for 2026-11-25",
               [("items[0].dish_id", "Jollof rice with chicken cannot be ordered for 2026-11-25")]),
              *CAPACITY_CASES,
              ("past", "Date in the past", "delivery_date: must be today or later",
               [("delivery_date", "must be today or later")])]),
          **UNAVAIL})

op("delete", "/orders/{id}", "orders", "cancelOrder", "Cancel an unpaid order",
   "Cancels the order while `pending_payment` (status `cancelled`; nothing is deleted).", "user",
   params=[pref("OrderId")],
   resps={"204": NO_CONTENT, "404": not_found("order"),
          "409": problem(409, "The order is not `pending_payment` (already paid, or cancelled).",
                         ("only an order awaiting payment can be cancelled",)),
          **UNAVAIL})

# ---- payments ------------------------------------------------------------------------------

op("get", "/orders/{id}/payments", "payments", "listOrderPayments", "Payment attempts for one order",
   "The attempts for one of the caller's orders, newest first.", "user", params=[pref("OrderId")] + LIST_PARAMS,
   resps={"200": json_resp("A page of payments.", "PaymentPage", schemas["PaymentPage"]["examples"][0]),
          "400": bad_query(LIMIT_CASE), "404": not_found("order"), **UNAVAIL})

op("post", "/orders/{id}/payments", "payments", "startPayment", "Start paying for an order",
   "Starts a Paystack transaction for the order's server-side total and answers the attempt (`pending`, with "
   "`authorization_url` to send the customer to). Calling again on an unpaid order is a retry with a new reference; "
   "earlier attempts keep their status. No request body. The attempt is recorded before Paystack is called; if Paystack "
   "is unreachable or too slow the answer is 503 (the attempt is recorded `abandoned`), if it refuses or answers "
   "wrongly 502 (`failed`), and either way the order stays as it was.",
   "user", params=[pref("OrderId"), pref("IdempotencyKey")],
   resps={"201": json_resp("The new payment attempt.", "Payment", EX_PAYMENT,
                           headers_={"Idempotent-Replayed": href("Idempotent-Replayed")}),
          "400": problem(400, "The `Idempotency-Key` header is malformed.",
                         ("Idempotency-Key: must be 1 to 255 visible ASCII characters",
                          [("Idempotency-Key", "must be 1 to 255 visible ASCII characters")])),
          "403": EMAIL_UNVERIFIED,
          "404": not_found("order"),
          "409": problem(409, "The order is already paid or cancelled, or a request with the same `Idempotency-Key` "
                              "is still being processed.", [
              ("paid", "Already paid", "the order is already paid", None),
              ("cancelled", "Cancelled", "the order is cancelled", None), IDEMP_409]),
          "422": problem(422, "The `Idempotency-Key` was used for another order.",
                         ("this Idempotency-Key was used with a different request",)),
          "502": rref("BadGateway"), **UNAVAIL})

op("get", "/payments", "payments", "listPayments", "The caller's payments",
   "Every payment attempt of the caller's, newest first.", "user", params=LIST_PARAMS,
   resps={"200": json_resp("A page of payments.", "PaymentPage", schemas["PaymentPage"]["examples"][0]),
          "400": bad_query(LIMIT_CASE), **UNAVAIL})

op("post", "/payments/{reference}/verify", "payments", "verifyPayment", "Ask Paystack how a payment went",
   "Asks Paystack for the transaction's state and records it. On success (amount and currency matching) the order "
   "becomes `paid` exactly once, however often this and the webhook run; money that arrives for an order cancelled "
   "(or expired) meanwhile, or already paid by another attempt, leaves the order as it is and sets `refund_due`. "
   "A payment already settled is answered without asking Paystack. Call it when the customer returns from "
   "checkout. No request body.",
   "user", params=[pref("Reference")],
   resps={"200": json_resp("The payment as recorded now.", "Payment", EX_PAYMENT_DONE),
          "404": problem(404, "No payment of the caller's has this reference.", ("payment not found",)),
          "502": rref("BadGateway"), **UNAVAIL})

# ---- webhook -------------------------------------------------------------------------------

op("post", "/webhooks/paystack", "webhooks", "receivePaystackWebhook", "Paystack events",
   "Called by Paystack. `x-paystack-signature` must be the lowercase hex HMAC-SHA512 of the exact body bytes, keyed "
   "with the Paystack secret key; otherwise 401 and nothing changes. `charge.success` with a known reference whose "
   "amount and currency match marks the payment `success` and the order `paid`, exactly once. A `refund.*` event "
   "moves each open refund of that charge to the status Paystack's refund API reports, forward only. A "
   "`charge.dispute.*` event sets the payment's `dispute` (listed at `GET /admin/disputes` while open; the kitchen "
   "is texted when one opens). An unknown "
   "reference, a mismatch (logged as an error), a `charge.success` whose transaction cannot be read (logged as an "
   "error and counted; verify settles the payment), an event whose `data.domain` is not the secret key's mode "
   "(`test` for `sk_test_…`, `live` for `sk_live_…`; counted, nothing changes) or any other event answers 200 so "
   "that Paystack stops retrying. A failure to record (or to reach Paystack for a refund event) answers 5xx so "
   "that Paystack retries. If the deployment sets `PAYSTACK_WEBHOOK_ALLOWED_IPS`, a call from "
   "any other source address (API Gateway's `requestContext.http.sourceIp`) answers 403 before the signature is read.",
   "paystack", request=body("PaystackEvent", EX_WEBHOOK),
   resps={"200": json_resp("Received (applied, already applied, or ignored).", "WebhookAck", {"received": True}),
          "400": problem(400, "Correctly signed, but not a JSON object with `event` and `data`.",
                         ("request body is not a Paystack event",)),
          "401": problem(401, "The signature is missing or wrong.", ("webhook signature missing or invalid",)),
          "403": problem(403, "The source address is not on the configured allow-list.",
                         ("webhooks are accepted only from Paystack's addresses",)),
          "413": rref("PayloadTooLarge"),
          "503": rref("Unavailable"),
          "5XX": problem(500, "Any other failure to record the event; Paystack retries.",
                         ("The server could not complete the request.",))})

# ---- admin ---------------------------------------------------------------------------------

op("get", "/admin/dishes", "admin", "adminListDishes", "All dishes", "Every dish, including inactive ones, newest first.",
   "admin", params=[
       {"name": "q", "in": "query", "required": False,
        "description": "Only dishes whose name contains this text, case-insensitively.",
        "schema": SEARCH},
       {"name": "active", "in": "query", "required": False, "schema": {"type": "boolean"}},
   ] + LIST_PARAMS,
   resps={"200": json_resp("A page of dishes.", "DishPage", schemas["DishPage"]["examples"][0]),
          "400": bad_query(invalid("active", "Not a boolean", "active", "must be true or false"), LIMIT_CASE),
          **UNAVAIL})

DISH_409 = problem(409, "Another dish already has this name (compared case-insensitively).",
                   ("a dish named \"Jollof rice with chicken\" already exists",))
DISH_BAD = bad_body(invalid("price", "Price not a whole number", "price", "invalid value: floating point `2500.5`, expected a whole number"),
                    invalid("currency", "Other currency", "currency", "unknown variant `USD`, expected `NGN`"))

DISH_422 = problem(422, "`available_until` is before `available_from` (after the change, for a PATCH).",
                   ("available_until: must be on or after available_from",
                    [("available_until", "must be on or after available_from")]))

op("post", "/admin/dishes", "admin", "adminCreateDish", "Create a dish", "Adds a dish to the menu.", "admin",
   request=body("DishCreate", schemas["DishCreate"]["examples"][0]),
   resps={"201": json_resp("The dish.", "Dish", dict(EX_DISH, **schemas["DishCreate"]["examples"][0],
                                                     id="01JD44A1B3C5D7E9F1G3H5J7K9",
                                                     created_at="2026-11-23T11:00:00Z", updated_at="2026-11-23T11:00:00Z"),
                           headers_={"Location": href("Location")}),
          "400": DISH_BAD, "409": DISH_409, "422": DISH_422, **UNAVAIL})

op("get", "/admin/dishes/{id}", "admin", "adminGetDish", "Any dish", "One dish, active or not.", "admin",
   params=[pref("DishId")],
   resps={"200": json_resp("The dish.", "Dish", EX_DISH), "404": admin_not_found("dish"), **UNAVAIL})

op("patch", "/admin/dishes/{id}", "admin", "adminUpdateDish", "Change a dish",
   "Changes any field (price, availability, active…). Orders already placed keep their prices.", "admin",
   params=[pref("DishId")], request=body("DishPatch", schemas["DishPatch"]["examples"][0]),
   resps={"200": json_resp("The updated dish.", "Dish", dict(EX_DISH, price=275000, available_until="2026-12-24")),
          "400": DISH_BAD, "404": admin_not_found("dish"), "409": DISH_409, "422": DISH_422, **UNAVAIL})

op("delete", "/admin/dishes/{id}", "admin", "adminDeactivateDish", "Deactivate a dish",
   "Sets `active: false` (nothing is deleted); already inactive is fine. Orders already placed are untouched.",
   "admin", params=[pref("DishId")],
   resps={"204": NO_CONTENT, "404": admin_not_found("dish"), **UNAVAIL})

op("get", "/admin/users", "admin", "adminListUsers", "Find users", "Every user, newest first.", "admin",
   params=[{"name": "q", "in": "query", "required": False,
            "description": "Only users whose name, email or phone contains this text, case-insensitively.",
            "schema": SEARCH, "example": "ada"}] + LIST_PARAMS,
   resps={"200": json_resp("A page of users.", "UserPage", schemas["UserPage"]["examples"][0]),
          "400": bad_query(LIMIT_CASE), **UNAVAIL})

op("post", "/admin/users", "admin", "adminCreateUser", "Create a phone-only customer",
   "Creates a customer who orders by phone (role `customer`, no password). Phone numbers need not be unique; "
   "emails must be.", "admin", request=body("AdminUserCreate", schemas["AdminUserCreate"]["examples"][0]),
   resps={"201": json_resp("The user.", "User", EX_PHONE_USER, headers_={"Location": href("Location")}),
          "400": bad_body(invalid("phone", "Bad phone", "phone", "must be an E.164 phone number like +2348012345678"),
                          ("missing", "Missing field", "phone: missing field `phone`", [("phone", "missing field `phone`")])),
          "409": problem(409, "An account with this email already exists.", ("an account with this email already exists",)),
          **UNAVAIL})

op("get", "/admin/users/{id}", "admin", "adminGetUser", "Any user", "One user.", "admin", params=[pref("UserId")],
   resps={"200": json_resp("The user.", "User", EX_PHONE_USER), "404": admin_not_found("user"), **UNAVAIL})

op("patch", "/admin/users/{id}", "admin", "adminUpdateUser", "Change a user",
   "Changes the fields present; `null` clears `first_name`, `last_name`, `phone` or `address`. Deactivating a user "
   "revokes all their sessions at once; a role change applies from the user's next request. `sms_opt_out` is "
   "staff's to set only for a phone-only customer (422 for a user with an email).", "admin",
   params=[pref("UserId")], request=body("AdminUserPatch", examples={
       "deactivate": ("Deactivate", {"active": False}),
       "promote": ("Make admin", {"role": "admin"}),
       "no_sms": ("Stop a phone-only customer's order SMS", {"sms_opt_out": True})}),
   resps={"200": json_resp("The updated user.", "User", dict(EX_PHONE_USER, active=False)),
          "400": bad_body(invalid("role", "Unknown role", "role", "unknown variant `chef`, expected `customer` or `admin`"),
                          unknown_field("email", ["active", "role", "first_name", "last_name", "phone", "address",
                                                  "sms_opt_out"])),
          "404": admin_not_found("user"),
          "409": problem(409, "An admin tried to deactivate or demote themself.",
                         ("an admin cannot deactivate or demote themself",)),
          "422": problem(422, "`sms_opt_out` was given for a user with an email, who sets it themself.",
                         ("sms_opt_out: a user with an email sets this themself (PATCH /me); staff set it only for "
                          "phone-only customers",
                          [("sms_opt_out", "a user with an email sets this themself (PATCH /me); staff set it only "
                                           "for phone-only customers")])),
          **UNAVAIL})

op("get", "/admin/orders", "admin", "adminListOrders", "All orders",
   "Every order, newest first; with `delivery_date`, the day's dispatch list.", "admin",
   params=[{"name": "status", "in": "query", "required": False, "schema": ref("OrderStatus")},
           {"name": "delivery_date", "in": "query", "required": False, "schema": DATE, "example": "2026-11-24"},
           {"name": "user_id", "in": "query", "required": False, "schema": ID}] + LIST_PARAMS,
   resps={"200": json_resp("A page of orders.", "OrderPage", {"items": [EX_ORDER_PREPARING, EX_ADMIN_ORDER],
                                                              "next_cursor": None}),
          "400": bad_query(invalid("status", "Unknown status", "status",
                                   "unknown variant `done`, expected one of `pending_payment`, `paid`, `preparing`, "
                                   "`out_for_delivery`, `delivered`, `cancelled`"), LIMIT_CASE),
          **UNAVAIL})

op("post", "/admin/orders", "admin", "adminPlaceOrder", "Place an order for a customer",
   "An order placed by staff (`placed_by: admin`, `pending_payment`); the customer gets an SMS. The same rules as "
   "`POST /orders` apply to the dishes and the date.", "admin", params=[pref("IdempotencyKey")],
   request=body("AdminOrderCreate", schemas["AdminOrderCreate"]["examples"][0]),
   resps={"201": json_resp("The order.", "Order", EX_ADMIN_ORDER, headers_={"Location": href("Location"),
                                                                             "Idempotent-Replayed": href("Idempotent-Replayed")}),
          "400": bad_body(invalid("quantity", "Quantity out of range", "items[0].quantity", "must be between 1 and 50"),
                          ("missing", "Missing field", "user_id: missing field `user_id`",
                           [("user_id", "missing field `user_id`")])),
          "409": problem(409, "A request with the same `Idempotency-Key` is still being processed.", IDEMP_409[2:]),
          "422": problem(422, "The user is unknown or inactive, a dish is not orderable on `delivery_date` or listed "
                              "twice, the date is in the past, ordering for it closed, the kitchen has not enough left, "
                              "or the `Idempotency-Key` was used with a different request.", [TWICE,
              *CAPACITY_CASES,
              ("user", "Unknown user", "user_id: no active user has this id", [("user_id", "no active user has this id")]),
              ("dish", "Dish not orderable that day", "Akara and pap cannot be ordered for 2026-11-24",
               [("items[0].dish_id", "Akara and pap cannot be ordered for 2026-11-24")]),
              ("past", "Date in the past", "delivery_date: must be today or later",
               [("delivery_date", "must be today or later")])]),
          **UNAVAIL})

op("get", "/admin/orders/{id}", "admin", "adminGetOrder", "Any order", "One order.", "admin", params=[pref("OrderId")],
   resps={"200": json_resp("The order.", "Order", EX_ORDER_PREPARING), "404": admin_not_found("order"), **UNAVAIL})

op("patch", "/admin/orders/{id}/status", "admin", "adminUpdateOrderStatus", "Move an order along",
   "Moves the order to its next status: `paid → preparing → out_for_delivery → delivered`, or `cancelled` from "
   "`pending_payment`, `paid` or `preparing` (from `paid` or `preparing` it sets `refund_due: true`). `reason` is "
   "allowed only with `cancelled`; `note` with any move, recorded with the staff member in `status_history`. The "
   "customer gets an SMS. Asking for the status the order already has answers it unchanged (200): a retry of a move "
   "whose answer was lost is safe.", "admin", params=[pref("OrderId")],
   request=body("OrderStatusChange", examples={
       "advance": ("Start preparing", {"status": "preparing"}),
       "cancel": ("Cancel with a reason", schemas["OrderStatusChange"]["examples"][0])}),
   resps={"200": json_resp("The updated order.", "Order", EX_ORDER_PREPARING),
          "400": bad_body(invalid("status", "Not settable", "status",
                                  "unknown variant `paid`, expected one of `preparing`, `out_for_delivery`, `delivered`, `cancelled`"),
                          invalid("reason", "Reason without cancelling", "reason", "is allowed only with status cancelled")),
          "404": admin_not_found("order"),
          "409": problem(409, "Not a transition from the order's current status, or the order changed "
                              "concurrently.", ("cannot move an order from delivered to preparing",)),
          **UNAVAIL})

op("get", "/admin/payments", "admin", "adminListPayments", "All payments", "Every payment attempt, newest first.",
   "admin", params=[
       {"name": "status", "in": "query", "required": False, "schema": ref("PaymentStatus")},
       {"name": "email", "in": "query", "required": False, "description": "The customer's email (exact, any case).",
        "schema": EMAIL},
       {"name": "order_id", "in": "query", "required": False, "schema": ID},
   ] + LIST_PARAMS,
   resps={"200": json_resp("A page of payments.", "PaymentPage", schemas["PaymentPage"]["examples"][0]),
          "400": bad_query(LIMIT_CASE), **UNAVAIL})

op("post", "/admin/orders/{id}/refunds", "admin", "adminRefundOrder", "Refund an order",
   "Asks Paystack to refund (part of) what was paid for the order, from its successful charge with the most left to "
   "refund (`POST /refund` with the transaction reference and amount), and answers the refund (`pending` until "
   "Paystack's refund webhooks move it on). However many refunds race, the refunds of a charge that have not failed "
   "never add up to more than it took. If Paystack cannot be reached or is too slow (503), or refuses (502), nothing "
   "is recorded and the same request may be sent again. With an `Idempotency-Key`, a repeat answers the first refund.",
   "admin", params=[pref("OrderId"), pref("IdempotencyKey")],
   request=body("RefundRequest", examples={
       "all": ("Everything that is left", {"reason": "The kitchen could not cook this order."}),
       "part": ("Part of it", {"amount": 100000, "reason": "One dish was missing."})}),
   resps={"201": json_resp("The refund.", "Refund", EX_REFUND,
                           headers_={"Idempotent-Replayed": href("Idempotent-Replayed")}),
          "400": bad_body(invalid("amount", "Not positive", "amount", "must be a positive whole number of kobo"),
                          invalid("reason", "Blank reason", "reason", "must not be blank")),
          "404": admin_not_found("order"),
          "409": problem(409, "Nothing was paid for the order (no successful charge), or a request with the same "
                              "`Idempotency-Key` is still being processed.",
                         ("nothing was paid for this order, so there is nothing to refund",)),
          "422": problem(422, "More than is left to refund (or nothing is left), or the `Idempotency-Key` was used for "
                              "another request.", [
              ("too_much", "More than is left", "at most 150000 kobo is left to refund",
               [("amount", "at most 150000 kobo is left to refund")]),
              ("key_reuse", "Idempotency-Key reused", "this Idempotency-Key was used with a different request", None)]),
          "502": rref("BadGateway"), **UNAVAIL})

op("get", "/admin/disputes", "admin", "adminListDisputes", "Open disputes",
   "Payments with an open dispute (chargeback), the soonest answer due first. Answer each on Paystack's dashboard "
   "before its `dispute.due_at`; the kitchen's phone is texted when one opens.",
   "admin", params=LIST_PARAMS,
   resps={"200": json_resp("A page of disputed payments.", "PaymentPage", {
       "items": [dict(EX_PAYMENT_DONE, dispute={"status": "open", "reason": "Customer complained about debit without value",
                                                "due_at": "2026-11-25T18:00:00Z", "resolution": None,
                                                "updated_at": "2026-11-24T13:46:57Z"})],
       "next_cursor": None}),
          "400": bad_query(LIMIT_CASE), **UNAVAIL})

op("patch", "/admin/kitchen", "admin", "adminUpdateKitchen", "Change the kitchen's calendar",
   "Time zone, order cut-off, closed dates, daily cap. Only the fields present change. Lowering a limit takes nothing "
   "from placed orders; it only stops new ones.", "admin",
   request=body("KitchenPatch", schemas["KitchenPatch"]["examples"][0]),
   resps={"200": json_resp("The settings now in force.", "Kitchen", schemas["Kitchen"]["examples"][0]),
          "400": bad_body(invalid("timezone", "Unknown time zone", "timezone",
                                  "must be one of " + ", ".join(KITCHEN_ZONES)),
                          invalid("time", "Bad cut-off time", "order_cutoff.time",
                                  "must be a time like 18:00 (HH:MM, 24-hour)"),
                          invalid("days", "Cut-off too early", "order_cutoff.days_before", "must be from 0 to 14"),
                          invalid("cap", "Cap out of range", "max_orders_per_day", "must be from 1 to 10000")),
          **UNAVAIL})

EX_PREP = {
    "date": "2026-11-24",
    "dishes": [{"dish_id": AKARA_ID, "dish_name": "Akara and pap", "quantity": 3, "orders": 1},
               {"dish_id": JOLLOF_ID, "dish_name": "Jollof rice with chicken", "quantity": 1, "orders": 1}],
    "orders": [
        {"id": ORDER_ID, "status": "preparing", "customer": {"name": "Ada Obi", "phone": "+2348012345678"},
         "delivery_address": ADDRESS_EX, "items": [EX_ITEM], "note": "No pepper in the stew, please."},
        {"id": ADMIN_ORDER_ID, "status": "paid", "customer": {"name": "Chinedu Eze", "phone": "+2348098765432"},
         "delivery_address": "4 Ojuelegba Road, Surulere, Lagos", "items": EX_ADMIN_ORDER["items"], "note": None},
    ],
}
PREP_CSV = ("\ufefforder_id,status,customer_name,customer_phone,delivery_address,dish_id,dish_name,quantity,note\r\n"
            f"{ORDER_ID},preparing,Ada Obi,'+2348012345678,\"{ADDRESS_EX}\",{JOLLOF_ID},Jollof rice with chicken,1,"
            "\"No pepper in the stew, please.\"\r\n"
            f"{ADMIN_ORDER_ID},paid,Chinedu Eze,'+2348098765432,\"4 Ojuelegba Road, Surulere, Lagos\",{AKARA_ID},"
            "Akara and pap,3,\r\n")
EX_SALES_DAY = {"date": "2026-11-24", "orders_paid": 2, "revenue": 610000, "refunded": 120000, "net": 490000}
EX_SALES = {
    "from": "2026-11-24", "to": "2026-11-25",
    "days": [EX_SALES_DAY, {"date": "2026-11-25", "orders_paid": 0, "revenue": 0, "refunded": 0, "net": 0}],
    "top_dishes": [{"dish_id": AKARA_ID, "dish_name": "Akara and pap", "quantity": 3, "revenue": 360000},
                   {"dish_id": JOLLOF_ID, "dish_name": "Jollof rice with chicken", "quantity": 1, "revenue": 250000}],
    "totals": {"orders_paid": 2, "revenue": 610000, "refunded": 120000, "net": 490000},
}
SALES_CSV = ("\ufeffdate,orders_paid,revenue,refunded,net\r\n"
             "2026-11-24,2,6100.00,1200.00,4900.00\r\n"
             "2026-11-25,0,0.00,0.00,0.00\r\n"
             "total,2,6100.00,1200.00,4900.00\r\n")
COUNT = {"type": "integer", "minimum": 0}
schemas["PrepList"] = obj({
    "date": DATE,
    "dishes": {"type": "array", "description": "Every dish the day's orders hold, most portions first.",
               "items": obj({"dish_id": ID, "dish_name": STORED_DISH_NAME,
                             "quantity": with_(COUNT, description="Portions to cook."),
                             "orders": with_(COUNT, description="Orders holding the dish.")})},
    "orders": {"type": "array", "description": "Every paid order of the day not yet delivered, oldest first.",
               "items": obj({
                   "id": ID,
                   "status": {"type": "string", "enum": ["paid", "preparing", "out_for_delivery"]},
                   "customer": obj({"name": nullable(with_(STORED_PERSON_NAME, maxLength=201,
                                                           description="First and last name as the profile reads now.")),
                                    "phone": nullable(PHONE)}),
                   "delivery_address": STORED_ADDRESS,
                   "items": {"type": "array", "items": ref("OrderItem"), "minItems": 1},
                   "note": nullable(with_(NOTE, description="The customer's special instructions.")),
               })},
}, description="The day's production list: paid, preparing and out-for-delivery orders.", example=EX_PREP)
SALES_PROPS = {
    "orders_paid": with_(COUNT, description="Orders that were paid (whatever became of them since)."),
    "revenue": with_(MONEY, description="What those orders cost, in kobo."),
    "refunded": with_(MONEY, description="What refunds not failed gave back of them, in kobo (at most each "
                                         "order's price)."),
    "net": with_(MONEY, description="`revenue - refunded`, in kobo."),
}
schemas["SalesReport"] = obj({
    "from": DATE,
    "to": DATE,
    "days": {"type": "array", "description": "Every delivery date of the range in order, days without sales included.",
             "items": obj(dict({"date": DATE}, **SALES_PROPS)), "minItems": 1, "maxItems": 92},
    "top_dishes": {"type": "array", "description": "Every dish sold in the range, most portions first.",
                   "items": obj({"dish_id": ID, "dish_name": STORED_DISH_NAME, "quantity": COUNT,
                                 "revenue": with_(MONEY, description="What its lines cost, in kobo.")})},
    "totals": obj(SALES_PROPS),
}, description="The sales of paid orders by delivery date.", example=EX_SALES)


def csv_alternative(description, example, columns):
    return {"text/csv": {"schema": {"type": "string", "description": description + " Columns: " + columns + "."},
                         "example": example}}


CSV_NOTE = ("Asked with `Accept: text/csv` (preferred to JSON), the answer is RFC 4180 CSV that a spreadsheet opens "
            "as it is: a header row, CRLF line ends, UTF-8 with a byte-order mark, `Content-Disposition: attachment`. "
            "Money is in naira with two decimals (`6100.00`), where JSON has integer kobo. A text cell that a "
            "spreadsheet would run as a formula (it starts with `=`, `+`, `-` or `@`, as a phone number does) is led "
            "by an apostrophe.")


def csv_resp(description, schema_name, example, csv_description, csv_example, columns):
    r = json_resp(description, schema_name, example)
    r["content"].update(csv_alternative(csv_description, csv_example, columns))
    r["headers"] = {"Content-Disposition": {"description": "With CSV only: `attachment; filename=\"...csv\"`.",
                                            "schema": {"type": "string"}},
                    "Vary": {"description": "`accept`: the answer depends on it.", "schema": {"type": "string"}}}
    return r


op("get", "/admin/kitchen/prep", "admin", "adminPrepList", "The day's production list",
   "What the kitchen cooks for `date`: the dishes of every paid, preparing and out-for-delivery order, with their "
   "totals (most first), and each order with its customer (name and phone as the profile reads now), address, items "
   "and note. Read with one Query of the day whatever the table holds. " + CSV_NOTE, "admin",
   params=[{"name": "date", "in": "query", "required": True, "schema": DATE, "example": "2026-11-24"}],
   resps={"200": csv_resp("The list.", "PrepList", EX_PREP, "One row per line of each order.", PREP_CSV,
                          "`order_id, status, customer_name, customer_phone, delivery_address, dish_id, dish_name, "
                          "quantity, note`"),
          "400": problem(400, "`date` is missing or not a date, or a parameter is unknown.", [
              invalid("date", "Not a date", "date", "must be a date like 2026-11-24 (YYYY-MM-DD)"),
              ("missing", "No date", "date: missing field `date`", [("date", "missing field `date`")])]),
          **UNAVAIL})

op("get", "/admin/reports/sales", "admin", "adminSalesReport", "Sales by delivery date",
   "Orders paid, revenue, refunds and net per delivery date from `from` to `to` (inclusive, at most 92 days), the "
   "dishes most sold and the totals, over every order that was paid (a refund counts on its order's delivery date). "
   "Read with one Query of just those days, so its cost grows with their orders, never with the table. " + CSV_NOTE,
   "admin",
   params=[{"name": "from", "in": "query", "required": True, "schema": DATE, "example": "2026-11-24"},
           {"name": "to", "in": "query", "required": True, "schema": DATE, "example": "2026-11-25"}],
   resps={"200": csv_resp("The report.", "SalesReport", EX_SALES, "One row per day, then a `total` row; the dishes "
                          "are in the JSON only.", SALES_CSV, "`date, orders_paid, revenue, refunded, net`"),
          "400": problem(400, "A date is missing or not a date, `to` is before `from`, the range is over 92 days, or "
                              "a parameter is unknown.", [
              invalid("backwards", "Range backwards", "to", "must not be before from"),
              invalid("long", "Range too long", "to", "a report covers at most 92 days"),
              invalid("date", "Not a date", "from", "must be a date like 2026-11-24 (YYYY-MM-DD)")]),
          **UNAVAIL})

op("get", "/admin/refunds", "admin", "adminListRefunds", "All refunds",
   "Every refund, newest first; by status (e.g. `failed` or `needs_attention`, which need someone) or by order.",
   "admin", params=[
       {"name": "status", "in": "query", "required": False, "schema": ref("RefundStatus")},
       {"name": "order_id", "in": "query", "required": False, "schema": ID},
   ] + LIST_PARAMS,
   resps={"200": json_resp("A page of refunds.", "RefundPage", schemas["RefundPage"]["examples"][0]),
          "400": bad_query(LIMIT_CASE), **UNAVAIL})

# --------------------------------------------------------------------------------------------

DESCRIPTION_MD = """Food-ordering backend: the menu, a cart, orders, Paystack payments, SMS notifications and the \
kitchen's back office.

**Accounts.** `POST /auth/register` emails a link that verifies the address; a customer needs a verified email \
to place orders and pay (403 `email-unverified` until then; `POST /auth/email/resend` sends another link). A \
forgotten password: `POST /auth/password/forgot` emails a reset link, whose token sets a new one at \
`POST /auth/password/reset` and ends every session.

**Authentication.** `POST /auth/register`, `/auth/login` and `/auth/google` answer a token pair. Send \
`Authorization: Bearer <access_token>` on user and admin routes. An access token lives `expires_in` seconds (30 minutes \
by default); `POST /auth/refresh` swaps the refresh token, which works once, for a new pair. A missing, malformed, \
expired or revoked token answers 401 with `WWW-Authenticate: Bearer`; a non-admin on `/admin/*` gets 403. Another \
user's resource answers 404, exactly like one that does not exist.

**Errors.** Every error is an RFC 9457 problem document (`application/problem+json`) whose `type` is \
`urn:kitchen:problem:<slug>`. A request that this document does not allow answers 400 with \
`errors: [{field, message}]` where fields are at fault: a body that is not a JSON object, a wrong type (`null` \
included, where a field is not nullable), a missing, unknown or invalid field, in a body or a query string. A request \
that this document allows but that breaks a rule it cannot express answers 422: a dish listed twice, an end date \
before the start, a dish not on the menu that day, a date in the past. A body over 64 KiB answers 413, a body whose \
`Content-Type` is not JSON 415. An unknown path, or a method a path does not have, answers 404 from API Gateway \
(its body is not a problem document). A dependency that is down answers 503 with `Retry-After`; one that answers wrongly, 502. \
A 500 is always a bug. Over the API's request rate, API Gateway itself answers 429 (its body is not a problem document).

**Data.** Money is an integer count of the currency's minor unit (kobo), and every money field has a \
`currency` beside it: `"price": 250000, "currency": "NGN"` is ₦2,500.00. IDs are opaque, time-sortable strings (ULIDs). Timestamps are RFC 3339 in UTC; \
dates are `YYYY-MM-DD`; "today" is the kitchen's date (Africa/Lagos). An `integer` field takes any JSON number \
without a fraction (`2`, `2.0`, `2e0`).

**Pagination.** Lists take `limit` (1–100, default 20) and `cursor` and answer `{"items": [...], "next_cursor": ...}`; \
pass `next_cursor` as `cursor` for the next page; it is null on the last one. Newest first. A cursor works only on \
the list, caller and filters it came from; anything else, or a tampered cursor, answers 400.

**Idempotency.** `POST /orders`, `POST /orders/{id}/payments` and `POST /admin/orders` take an `Idempotency-Key` \
header (1–255 characters). Repeating a successful request with the same key, by the same user, within 24 hours \
returns the first response (marked `Idempotent-Replayed: true`) and creates nothing. While the first request is still \
running the same key answers 409; with a different request, 422. A request that failed may be retried with its key."""

doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "Kitchen API",
        "version": "0.1.0",
        "description": DESCRIPTION_MD,
        "license": {"name": "MIT", "identifier": "MIT"},
    },
    "servers": [
        {"url": "http://127.0.0.1:9000", "description": "Local stack (`make dev`)"},
        {"url": "https://{api_id}.execute-api.{region}.amazonaws.com",
         "description": "AWS: the stack's `ApiUrl` output",
         "variables": {"api_id": {"default": "abc123defg", "description": "The HTTP API's id."},
                       "region": {"default": "eu-west-1", "description": "The stack's AWS region."}}},
    ],
    "tags": [
        {"name": "auth", "description": "Accounts, sign-in, tokens and the caller's profile (function `auth`)."},
        {"name": "dishes", "description": "The public menu, health and this documentation (function `dishes`)."},
        {"name": "orders", "description": "The cart and the caller's orders (function `orders`)."},
        {"name": "payments", "description": "Paying for orders through Paystack (function `payments`)."},
        {"name": "admin", "description": "The kitchen's back office; admins only (function `admin`)."},
        {"name": "webhooks", "description": "Called by Paystack (function `paystack-webhook`)."},
    ],
    "paths": paths,
    "components": {
        "schemas": schemas,
        "parameters": parameters,
        "headers": headers,
        "responses": responses,
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "The `access_token` of a sign-in or refresh."},
            "paystackSignature": {"type": "apiKey", "in": "header", "name": "x-paystack-signature",
                                  "description": "Lowercase hex HMAC-SHA512 of the raw body, keyed with the Paystack "
                                                 "secret key."},
        },
    },
}

# Readable as UTF-8 (₦, →), but with every character above U+FFFF (the patterns' format characters)
# escaped, so the file holds no invisible character.
text = json.dumps(doc, indent=2, ensure_ascii=False)
text = re.sub("[\U00010000-\U0010FFFF]", lambda m: json.dumps(m.group(0)).strip('"'), text)
with open(OUT, "w", encoding="utf-8") as f:
    f.write(text)
    f.write("\n")
print(f"wrote {OUT}: {len(ORDER)} operations")
