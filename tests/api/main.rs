//! The real app over HTTP. Scenarios that touch the database run on PostgreSQL and SQLite.

mod bad_input;
mod orders;
mod tenancy;
mod walkthrough;

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_postgres() {
                super::$name(testkit::Backend::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                super::$name(testkit::Backend::Sqlite).await
            }
        }
    )*};
}
pub(crate) use on_both_databases;
