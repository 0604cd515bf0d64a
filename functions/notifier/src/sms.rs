//! What the customer and the kitchen read: one short text per order event.
//!
//! Texts are written to fit one SMS. A text in the GSM 03.38 alphabet fits in 160 characters; one
//! character outside it (the naira sign ₦ is one) sends the whole text as UCS-2, where one SMS holds
//! 70. So the texts that quote an amount are kept within 70 characters (for totals up to
//! ₦999,999.99), and the others use GSM characters only and stay within 160.

use kitchen::{
    domain::{Date, OrderId, OrderStatus, PhoneNumber},
    events::{OrderEvent, OrderEventKind},
};

/// The customer's text for `event`.
pub fn customer_text(event: &OrderEvent) -> String {
    let order = order_ref(&event.order_id);
    let amount = event.total.to_string();
    let date = short_date(event.delivery_date);
    use {OrderEventKind as Kind, OrderStatus as Status};
    match (event.kind, event.status) {
        (Kind::Placed, _) => format!("Order {order} placed: {amount} for {date}. Pay to confirm."),
        (Kind::Paid, _) | (Kind::StatusChanged, Status::Paid) => {
            format!("Payment received for order {order} ({amount}). We're on it!")
        }
        (Kind::Cancelled, _) | (Kind::StatusChanged, Status::Cancelled) => {
            // The event does not say whether the order had been paid (staff may cancel a paid
            // order; unpaid ones also expire), so the refund is mentioned for those who did.
            format!(
                "Order {order} has been cancelled. If you already paid, your refund is on its way."
            )
        }
        (Kind::StatusChanged, Status::PendingPayment) => {
            format!("Order {order} is waiting for payment: {amount}. Pay to confirm.")
        }
        (Kind::StatusChanged, Status::Preparing) => {
            format!("Order {order} is being prepared. We'll text you when it leaves the kitchen.")
        }
        (Kind::StatusChanged, Status::OutForDelivery) => {
            format!("Order {order} is on its way to you. Please keep your phone nearby.")
        }
        (Kind::StatusChanged, Status::Delivered) => {
            format!("Order {order} has been delivered. Enjoy your meal, and thank you!")
        }
        // The kitchen's alone (see `texts_customer`); worded for the kitchen should they ever be sent.
        (Kind::Disputed, _) => dispute_text(event),
        (Kind::Unattended, _) => reminder_text(event),
        (Kind::Refunded, _) => {
            let refunded = event.refunded.unwrap_or(event.total);
            format!("Refund of {refunded} for order {order} sent to your account.")
        }
    }
}

/// Whether the customer is texted about an event of `kind` (a dispute and a reminder of an order
/// left waiting are for the kitchen only).
pub fn texts_customer(kind: OrderEventKind) -> bool {
    !matches!(kind, OrderEventKind::Disputed | OrderEventKind::Unattended)
}

/// The kitchen's reminder of a paid order nobody has started preparing: how long since it was
/// paid, and which reminder this is (the last one says so by its number). GSM characters only.
pub fn reminder_text(event: &OrderEvent) -> String {
    let order = order_ref(&event.order_id);
    match event.reminder {
        Some(reminder) => {
            let waited = (event.occurred_at - reminder.paid_at)
                .whole_minutes()
                .max(0);
            format!(
                "Order {order} paid {} ago is still waiting to be prepared - reminder {} of {}.",
                minutes(waited),
                reminder.number,
                reminder.of
            )
        }
        None => format!("Order {order} is paid and still waiting to be prepared."),
    }
}

/// `1 min`, `25 min`, and past two hours `3 h 5 min`, as a kitchen reads a wait at a glance.
fn minutes(total: i64) -> String {
    if total < 120 {
        return format!("{total} min");
    }
    match total % 60 {
        0 => format!("{} h", total / 60),
        rest => format!("{} h {rest} min", total / 60),
    }
}

/// The kitchen's text for a dispute on an order's charge.
pub fn dispute_text(event: &OrderEvent) -> String {
    format!(
        "Dispute on order {} ({}): answer it on Paystack today.",
        order_ref(&event.order_id),
        event.total
    )
}

/// The kitchen's text for a paid order: which order, how much, for when, and for whom when the
/// name still fits in one SMS.
pub fn kitchen_text(event: &OrderEvent) -> String {
    let base = format!(
        "New paid order {}: {} for {}",
        order_ref(&event.order_id),
        event.total,
        short_date(event.delivery_date)
    );
    let name = event
        .customer_name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty());
    let Some(name) = name else {
        return format!("{base}.");
    };
    // ", " before the name and "." after it.
    let room = UCS2_SINGLE.saturating_sub(utf16_len(&base) + 3);
    if room < 3 {
        return format!("{base}.");
    }
    let name = if utf16_len(name) <= room {
        name.to_string()
    } else {
        let mut cut = String::new();
        for c in name.chars() {
            if utf16_len(&cut) + c.len_utf16() + 1 > room {
                break;
            }
            cut.push(c);
        }
        format!("{}…", cut.trim_end())
    };
    format!("{base}, {name}.")
}

/// The order as a customer can quote it: `#` and the id's last six characters (the random part of
/// the ULID, so orders placed together still differ).
pub fn order_ref(id: &OrderId) -> String {
    let id = id.as_str();
    format!("#{}", &id[id.len().saturating_sub(6)..])
}

/// A phone number for logs: country code and last four digits, `+234******5678`.
pub fn mask_phone(phone: &PhoneNumber) -> String {
    let phone = phone.as_str();
    let keep_start = 4.min(phone.len());
    let keep_end = 4.min(phone.len() - keep_start);
    format!(
        "{}{}{}",
        &phone[..keep_start],
        "*".repeat(phone.len() - keep_start - keep_end),
        &phone[phone.len() - keep_end..]
    )
}

/// A delivery date as a text says it: `Tue 24 Nov`.
fn short_date(date: Date) -> String {
    const ISO: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");
    const SHORT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short] [day padding:none] [month repr:short]"
    );
    let iso = date.to_string();
    time::Date::parse(&iso, ISO)
        .ok()
        .and_then(|date| date.format(SHORT).ok())
        .unwrap_or(iso)
}

/// How a text travels as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The GSM 03.38 alphabet: 160 characters in one SMS, 153 per part when split.
    Gsm7,
    /// Anything else: 70 characters in one SMS, 67 per part.
    Ucs2,
}

const GSM7_SINGLE: usize = 160;
const GSM7_PART: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_PART: usize = 67;

/// GSM 03.38's basic character set (the escape character aside).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table: each of these takes two of the 160.
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// The encoding `text` is sent in and how many SMS it takes.
pub fn measure(text: &str) -> (Encoding, usize) {
    let mut septets = 0;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            let units = utf16_len(text);
            return (Encoding::Ucs2, parts(units, UCS2_SINGLE, UCS2_PART));
        }
    }
    (Encoding::Gsm7, parts(septets, GSM7_SINGLE, GSM7_PART))
}

fn parts(units: usize, single: usize, part: usize) -> usize {
    if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kitchen::domain::{Currency, UserId};
    use kitchen::events::KitchenReminder;

    fn event(kind: OrderEventKind, status: OrderStatus) -> OrderEvent {
        OrderEvent {
            kind,
            order_id: OrderId::parse("01JD3X8Q4W7N2R5T9V6B0C1E2F").unwrap(),
            user_id: UserId::new(),
            status,
            total: kitchen::domain::Money::from_minor_units(350_000),
            currency: Currency::Ngn,
            delivery_date: Date::parse("2026-11-24").unwrap(),
            phone: Some(PhoneNumber::parse("+2348012345678").unwrap()),
            sms_opt_out: false,
            customer_name: Some("Ada Obi".into()),
            occurred_at: kitchen::now(),
            refunded: (kind == OrderEventKind::Refunded)
                .then(|| kitchen::domain::Money::from_minor_units(99_999_999)),
            reminder: (kind == OrderEventKind::Unattended).then(|| KitchenReminder {
                number: 10,
                of: 10,
                paid_at: kitchen::now() - time::Duration::minutes(1440 * 10),
            }),
        }
    }

    fn every_event() -> Vec<OrderEvent> {
        use {OrderEventKind as Kind, OrderStatus as Status};
        let mut events = vec![
            event(Kind::Placed, Status::PendingPayment),
            event(Kind::Paid, Status::Paid),
            event(Kind::Cancelled, Status::Cancelled),
            event(Kind::Refunded, Status::Cancelled),
            event(Kind::Disputed, Status::Paid),
            event(Kind::Unattended, Status::Paid),
        ];
        for status in [
            Status::PendingPayment,
            Status::Paid,
            Status::Preparing,
            Status::OutForDelivery,
            Status::Delivered,
            Status::Cancelled,
        ] {
            events.push(event(Kind::StatusChanged, status));
        }
        events
    }

    #[test]
    fn an_order_is_quoted_by_the_last_six_characters_of_its_id() {
        let id = OrderId::parse("01JD3X8Q4W7N2R5T9V6B0C1E2F").unwrap();
        assert_eq!(order_ref(&id), "#0C1E2F");
    }

    #[test]
    fn phones_in_logs_show_only_the_country_code_and_last_four_digits() {
        let phone = PhoneNumber::parse("+2348012345678").unwrap();
        assert_eq!(mask_phone(&phone), "+234******5678");
        let short = PhoneNumber::parse("+12345678").unwrap();
        assert_eq!(mask_phone(&short), "+123*5678");
    }

    #[test]
    fn a_placed_order_asks_for_payment_with_the_amount_and_date() {
        let text = customer_text(&event(OrderEventKind::Placed, OrderStatus::PendingPayment));
        assert_eq!(
            text,
            "Order #0C1E2F placed: ₦3,500.00 for Tue 24 Nov. Pay to confirm."
        );
    }

    #[test]
    fn a_paid_order_confirms_the_payment() {
        let text = customer_text(&event(OrderEventKind::Paid, OrderStatus::Paid));
        assert_eq!(
            text,
            "Payment received for order #0C1E2F (₦3,500.00). We're on it!"
        );
    }

    #[test]
    fn each_status_change_says_what_happens_next() {
        use OrderStatus::*;
        let text = |status| customer_text(&event(OrderEventKind::StatusChanged, status));
        assert_eq!(
            text(Preparing),
            "Order #0C1E2F is being prepared. We'll text you when it leaves the kitchen."
        );
        assert_eq!(
            text(OutForDelivery),
            "Order #0C1E2F is on its way to you. Please keep your phone nearby."
        );
        assert_eq!(
            text(Delivered),
            "Order #0C1E2F has been delivered. Enjoy your meal, and thank you!"
        );
    }

    #[test]
    fn a_cancelled_order_mentions_the_refund_for_those_who_paid() {
        let text = customer_text(&event(OrderEventKind::Cancelled, OrderStatus::Cancelled));
        assert_eq!(
            text,
            "Order #0C1E2F has been cancelled. If you already paid, your refund is on its way."
        );
    }

    #[test]
    fn the_kitchen_hears_of_each_paid_order_with_the_customers_name() {
        let paid = event(OrderEventKind::Paid, OrderStatus::Paid);
        assert_eq!(
            kitchen_text(&paid),
            "New paid order #0C1E2F: ₦3,500.00 for Tue 24 Nov, Ada Obi."
        );
        let nameless = OrderEvent {
            customer_name: None,
            ..paid.clone()
        };
        assert_eq!(
            kitchen_text(&nameless),
            "New paid order #0C1E2F: ₦3,500.00 for Tue 24 Nov."
        );
        let long_name = OrderEvent {
            customer_name: Some("Oluwadamilare Adebayo-Ogunlesi the Third".into()),
            ..paid
        };
        let text = kitchen_text(&long_name);
        assert!(text.starts_with("New paid order #0C1E2F: ₦3,500.00 for Tue 24 Nov, Oluwa"));
        assert!(text.ends_with("….") && utf16_len(&text) <= 70, "{text}");
    }

    #[test]
    fn a_reminder_says_how_long_the_order_has_waited_and_which_reminder_it_is() {
        let paid = event(OrderEventKind::Paid, OrderStatus::Paid);
        let reminder = |number, waited: i64| OrderEvent {
            kind: OrderEventKind::Unattended,
            reminder: Some(KitchenReminder {
                number,
                of: 3,
                paid_at: paid.occurred_at - time::Duration::seconds(waited),
            }),
            ..paid.clone()
        };
        assert_eq!(
            reminder_text(&reminder(2, 20 * 60 + 59)),
            "Order #0C1E2F paid 20 min ago is still waiting to be prepared - reminder 2 of 3."
        );
        assert!(reminder_text(&reminder(3, 185 * 60)).contains("paid 3 h 5 min ago"));
        assert!(reminder_text(&reminder(1, 120 * 60)).contains("paid 2 h ago"));
        let text = reminder_text(&reminder(1, 10 * 60));
        assert_eq!(measure(&text), (Encoding::Gsm7, 1), "{text}");
        assert!(!texts_customer(OrderEventKind::Unattended));
    }

    #[test]
    fn every_text_fits_in_one_sms() {
        for total in [1, 350_000, 99_999_999] {
            for event in every_event() {
                let event = OrderEvent {
                    total: kitchen::domain::Money::from_minor_units(total),
                    ..event
                };
                for text in [
                    customer_text(&event),
                    kitchen_text(&event),
                    reminder_text(&event),
                ] {
                    assert_eq!(measure(&text).1, 1, "{text:?} takes more than one SMS");
                }
            }
        }
    }

    #[test]
    fn texts_without_an_amount_stay_in_the_gsm_alphabet() {
        use OrderStatus::*;
        for status in [Preparing, OutForDelivery, Delivered, Cancelled] {
            let text = customer_text(&event(OrderEventKind::StatusChanged, status));
            assert_eq!(measure(&text).0, Encoding::Gsm7, "{text:?}");
        }
    }

    #[test]
    fn sms_length_is_counted_as_phones_count_it() {
        assert_eq!(measure(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(measure(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(measure(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(measure(&"€".repeat(81)), (Encoding::Gsm7, 2));
        assert_eq!(measure(&"₦".repeat(70)), (Encoding::Ucs2, 1));
        assert_eq!(measure(&"₦".repeat(71)), (Encoding::Ucs2, 2));
        assert_eq!(measure(&"₦".repeat(135)), (Encoding::Ucs2, 3));
    }
}
