//! A router that remembers its routes: every route of the daemon is added through
//! [`Routes::get`] or [`Routes::post`], so the full list (method, path) is known and the
//! test of [`crate::server::route_list`] can prove each one refuses requests without a
//! session. axum's `Router` cannot list its routes itself.

use axum::Router;
use axum::handler::Handler;

/// An axum router and the (method, path) pairs added to it.
#[derive(Debug)]
pub struct Routes<S = ()> {
    pub router: Router<S>,
    pub listed: Vec<(&'static str, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            listed: Vec::new(),
        }
    }

    pub fn get<H: Handler<T, S>, T: 'static>(mut self, path: &'static str, handler: H) -> Self {
        self.listed.push(("GET", path));
        self.router = self.router.route(path, axum::routing::get(handler));
        self
    }

    pub fn post<H: Handler<T, S>, T: 'static>(mut self, path: &'static str, handler: H) -> Self {
        self.listed.push(("POST", path));
        self.router = self.router.route(path, axum::routing::post(handler));
        self
    }

    pub fn merge(mut self, other: Routes<S>) -> Self {
        self.listed.extend(other.listed);
        self.router = self.router.merge(other.router);
        self
    }

    /// The router with its state given.
    pub fn with_state<S2>(self, state: S) -> Routes<S2> {
        Routes {
            router: self.router.with_state(state),
            listed: self.listed,
        }
    }
}
