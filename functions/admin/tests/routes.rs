//! Until its routes are built, the admin function answers every path with a 404 problem.

use devkit::testing::TestApp;

#[tokio::test]
async fn every_path_is_a_404_problem_for_now() {
    let app = TestApp::spawn(admin::router).await;
    app.get("/", None).await.assert_problem(404);
}
