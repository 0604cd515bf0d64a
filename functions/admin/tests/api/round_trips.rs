//! How long a back-office read keeps its caller waiting on the table: the session check goes out
//! beside the route's own read (a Query cannot join the check's batch), so the request waits one
//! round trip for both, as the request log line's `db_waited` counts them; and what the read found
//! still reaches only staff whose session is live.

use devkit::testing::TestApp;
use kitchen::db::meter::{Usage, metered};
use kitchen::domain::{OrderId, Role};
use std::sync::Arc;

const STAFF_READS: [&str; 11] = [
    "/admin/orders/00000000000000000000000000",
    "/admin/users/00000000000000000000000000",
    "/admin/dishes/00000000000000000000000000",
    "/admin/orders",
    "/admin/users",
    "/admin/payments",
    "/admin/refunds",
    "/admin/disputes",
    "/admin/dishes",
    "/admin/kitchen/prep?date=2026-12-04",
    "/admin/reports/sales?from=2026-12-01&to=2026-12-31",
];

#[tokio::test]
async fn a_list_waits_one_round_trip_for_its_session_check_and_its_query() {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    for path in STAFF_READS {
        let (response, line) = app.get_logged(path, &admin.access_token).await;
        // The three reads by id find nothing: a 404, after the same two reads.
        let found = if path.ends_with("00000000000000000000000000") {
            404
        } else {
            200
        };
        response.assert_status(found);
        assert_eq!(line["db_reads"], 2, "{path}: {line}");
        assert_eq!(line["db_waited"], 1, "{path}: {line}");
    }
}

#[tokio::test]
async fn a_revoked_session_sees_nothing_of_a_list_read_beside_its_check() {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    let other = app.user(Role::Admin).await;
    app.deactivate(&admin, &other).await;
    for path in STAFF_READS {
        let (response, _) = app.get_logged(path, &other.access_token).await;
        response.assert_problem(401);
        assert!(
            response.json.get("items").is_none(),
            "{path}: {}",
            response.text
        );
    }
}

#[tokio::test]
async fn a_customer_s_token_reads_nothing_beside_its_check() {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let customer = app.user(Role::Customer).await;
    for path in STAFF_READS {
        let (response, line) = app.get_logged(path, &customer.access_token).await;
        response.assert_problem(403);
        assert_eq!(
            line["db_reads"], 1,
            "only the session check: {path}: {line}"
        );
    }
}

#[tokio::test]
async fn the_meter_counts_reads_in_sequence_as_waits_and_reads_side_by_side_as_one() {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let db = app.db();
    let (one, two) = (OrderId::new(), OrderId::new());
    let waited = |usage: &Arc<Usage>| usage.snapshot().waited;
    let in_turn = Arc::new(Usage::default());
    metered(in_turn.clone(), async {
        db.get_order(&one).await.unwrap();
        db.get_order(&two).await.unwrap();
    })
    .await;
    assert_eq!(waited(&in_turn), 2);
    let together = Arc::new(Usage::default());
    metered(together.clone(), async {
        let (a, b) = tokio::join!(db.get_order(&one), db.get_order(&two));
        a.unwrap();
        b.unwrap();
    })
    .await;
    assert_eq!(waited(&together), 1);
    assert_eq!(together.snapshot().reads, 2);
}
