//! In-process targets: a [`Registry`] that maps names to async functions (each may declare
//! its params, checked when a scenario is validated), the builtins (`builtin.noop`,
//! `builtin.sleep`, `builtin.sha256`, `builtin.fail`, `builtin.panic`), and the call wrapper
//! that turns an error or a panic into an outcome of class `function`.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Once};

use futures_util::FutureExt as _;

use crate::metrics::{ErrorClass, Outcome};
use crate::scenario::{FunctionCatalog, ParamSpec};

/// What an in-process function returns: `Ok(())`, or any error. An error (or a panic) is
/// counted as a failed request of class `function`, with its message as the sample; it does
/// not stop the run.
pub type FnResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type BoxFuture = Pin<Box<dyn Future<Output = FnResult> + Send>>;
type Func = Arc<dyn Fn(CallContext) -> BoxFuture + Send + Sync>;

/// A param a function reads has the wrong type (the call fails with class `function`).
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    /// The param is present but not a whole number.
    #[error("param `{name}` must be a whole number, got {value}")]
    NotWhole {
        /// The param's name.
        name: String,
        /// The value the scenario gave.
        value: serde_json::Value,
    },
}

/// What a function is called with: the request's `params` from the scenario (the same for
/// every call of that request; cloning is cheap).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    params: Arc<BTreeMap<String, serde_json::Value>>,
}

impl CallContext {
    /// A context holding `params`: for calling a registered function yourself, e.g. in a
    /// unit test of it.
    pub fn new(params: BTreeMap<String, serde_json::Value>) -> Self {
        CallContext {
            params: Arc::new(params),
        }
    }

    /// Every param, as the scenario wrote it (YAML read as JSON values).
    pub fn params(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.params
    }

    /// A whole-number parameter, or `default` when absent; an error when it is not a number.
    pub fn u64_param(&self, name: &str, default: u64) -> Result<u64, ParamError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(v) => v.as_u64().ok_or_else(|| ParamError::NotWhole {
                name: name.to_string(),
                value: v.clone(),
            }),
        }
    }

    /// A string parameter, or `None` when it is absent or not a string.
    pub fn str_param(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(|v| v.as_str())
    }
}

/// Named async functions that scenarios can `call`: the in-process benchmark API.
///
/// Register your async code under a name, hand the registry to [`crate::cli::main`] from
/// your own binary, and a scenario's request `call: <name>` runs it (with the request's
/// `params`) the way an HTTP request would be sent: same load shapes, latency histograms,
/// thresholds, baseline gate and reports. An `Err` or a panic counts as a failed request of
/// class `function`; a call that outlasts `target.timeout` as one of class `timeout`.
///
/// ```
/// use perfgate::{CallContext, FnResult, ParamSpec, Registry};
///
/// /// The code under test.
/// async fn quote(ctx: CallContext) -> FnResult {
///     let qty = ctx.u64_param("qty", 1)?;
///     if qty == 0 {
///         return Err("qty must be at least 1".into());
///     }
///     std::hint::black_box((1..=qty).map(|i| 999 - (i % 7) * 10).sum::<u64>());
///     Ok(())
/// }
///
/// let mut registry = Registry::with_builtins();
/// // `perfgate validate` refuses a scenario that gives `qty` a value outside 1..=10000.
/// registry.register_with_params("pricing.quote", vec![ParamSpec::whole("qty", 1, 10_000)], quote);
/// assert!(registry.names().contains(&"pricing.quote"));
/// ```
///
/// Then, in your binary, `perfgate::cli::main(registry)` is the whole `perfgate` command
/// line with your functions in it, and a scenario calls them:
///
/// ```yaml
/// requests:
///   - name: quote-small
///     call: pricing.quote
///     params: { qty: 3 }
/// ```
///
/// (`examples/pricing.rs` in the repository is this, runnable.)
#[derive(Clone, Default)]
pub struct Registry {
    fns: HashMap<String, Func>,
    /// Declared params, for the functions registered with [`Registry::register_with_params`].
    params: HashMap<String, Vec<ParamSpec>>,
}

/// Largest `size` of `builtin.sha256`: 64 MiB.
const SHA256_MAX: i64 = 64 << 20;
/// Longest `ms` of `builtin.sleep`: one hour.
const SLEEP_MAX_MS: i64 = 3_600_000;

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("names", &self.names())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with the builtins: `builtin.noop`, `builtin.sleep` (param `ms`),
    /// `builtin.sha256` (param `size`, bytes), `builtin.fail` (returns an error) and
    /// `builtin.panic` (panics; counted as class `function`).
    pub fn with_builtins() -> Self {
        let mut r = Registry::new();
        r.register_with_params("builtin.noop", vec![], |_ctx| async { Ok(()) });
        let ms = ParamSpec::whole("ms", 0, SLEEP_MAX_MS);
        r.register_with_params("builtin.sleep", vec![ms], |ctx| async move {
            let ms = ctx.u64_param("ms", 1)?;
            let ms = ms.min(SLEEP_MAX_MS as u64);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Ok(())
        });
        let size = ParamSpec::whole("size", 0, SHA256_MAX);
        r.register_with_params("builtin.sha256", vec![size], |ctx| async move {
            let size = ctx.u64_param("size", 4096)?;
            if size > SHA256_MAX as u64 {
                return Err("param `size` is at most 64 MiB".into());
            }
            sha256_zeros(size as usize);
            Ok(())
        });
        let message = ParamSpec::string("message");
        r.register_with_params("builtin.fail", vec![message], |ctx| async move {
            let msg = ctx
                .str_param("message")
                .unwrap_or("builtin.fail always fails");
            Err(msg.to_string().into())
        });
        r.register_with_params("builtin.panic", vec![], |_ctx| async {
            panic!("builtin.panic panicked on purpose");
        });
        r
    }

    /// Registers `f` under `name` (replacing any function of that name). Its `params` are
    /// not checked when a scenario is validated; see [`Registry::register_with_params`].
    pub fn register<F, Fut>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = FnResult> + Send + 'static,
    {
        self.params.remove(name);
        self.fns
            .insert(name.to_string(), Arc::new(move |ctx| Box::pin(f(ctx))));
        self
    }

    /// Registers `f` under `name` with the params it takes: `perfgate validate` (and every
    /// command that loads a scenario) refuses an unknown param (with a "did you mean"), a
    /// value of the wrong kind or out of range, and a missing required one, pointing at the
    /// line. An empty list means the function takes no params.
    pub fn register_with_params<F, Fut>(
        &mut self,
        name: &str,
        params: Vec<ParamSpec>,
        f: F,
    ) -> &mut Self
    where
        F: Fn(CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = FnResult> + Send + 'static,
    {
        self.register(name, f);
        self.params.insert(name.to_string(), params);
        self
    }

    /// Registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.fns.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    pub(crate) fn get(&self, name: &str) -> Option<Func> {
        self.fns.get(name).cloned()
    }
}

impl FunctionCatalog for Registry {
    fn function_names(&self) -> Vec<&str> {
        self.names()
    }

    fn declared_params(&self, name: &str) -> Option<&[ParamSpec]> {
        self.params.get(name).map(Vec::as_slice)
    }
}

fn sha256_zeros(size: usize) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    static ZEROS: [u8; 4096] = [0; 4096];
    let mut h = Sha256::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(ZEROS.len());
        h.update(&ZEROS[..n]);
        left -= n;
    }
    h.finalize().into()
}

thread_local! {
    static IN_USER_CODE: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays quiet for panics inside registered functions,
/// which are counted as errors of class `function`, and defers to the previous hook otherwise.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_USER_CODE.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Marks the thread as running user code while `f` runs.
fn in_user_code<R>(f: impl FnOnce() -> R) -> R {
    IN_USER_CODE.with(|c| c.set(true));
    let r = f();
    IN_USER_CODE.with(|c| c.set(false));
    r
}

/// A future that flags its polls as user code, so a panic inside is reported quietly.
struct Flagged<F>(Pin<Box<F>>);

impl<F: Future> Future for Flagged<F> {
    type Output = F::Output;
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        in_user_code(|| inner.poll(cx))
    }
}

/// A function bound to its call context: what a worker calls for a `call:` request.
#[derive(Clone)]
pub(crate) struct BoundCall {
    func: Func,
    ctx: CallContext,
}

impl BoundCall {
    pub(crate) fn new(registry: &Registry, name: &str, ctx: CallContext) -> Option<Self> {
        install_quiet_hook();
        registry.get(name).map(|func| BoundCall { func, ctx })
    }

    /// Calls the function; an error or a panic becomes an outcome of class `function`.
    pub(crate) async fn call(&self) -> Outcome {
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
            in_user_code(|| (self.func)(self.ctx.clone()))
        }));
        let fut = match started {
            Ok(f) => f,
            Err(p) => return panicked(p),
        };
        match AssertUnwindSafe(Flagged(Box::pin(fut)))
            .catch_unwind()
            .await
        {
            Ok(Ok(())) => Outcome::ok(0, 0),
            Ok(Err(e)) => Outcome::error(ErrorClass::Function, e.to_string()),
            Err(p) => {
                IN_USER_CODE.with(|c| c.set(false));
                panicked(p)
            }
        }
    }
}

fn panicked(p: Box<dyn std::any::Any + Send>) -> Outcome {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Outcome::error(ErrorClass::Function, format!("panicked: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(r: &Registry, name: &str, params: serde_json::Value) -> Outcome {
        let params = serde_json::from_value(params).unwrap();
        let b = BoundCall::new(r, name, CallContext::new(params)).unwrap();
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(b.call())
    }

    #[test]
    fn builtins_run() {
        let r = Registry::with_builtins();
        assert_eq!(
            r.names(),
            vec![
                "builtin.fail",
                "builtin.noop",
                "builtin.panic",
                "builtin.sha256",
                "builtin.sleep"
            ]
        );
        assert!(call(&r, "builtin.noop", serde_json::json!({}))
            .error
            .is_none());
        assert!(
            call(&r, "builtin.sha256", serde_json::json!({"size": 10000}))
                .error
                .is_none()
        );
        assert!(call(&r, "builtin.sleep", serde_json::json!({"ms": 1}))
            .error
            .is_none());
    }

    #[test]
    fn errors_and_panics_are_class_function() {
        let r = Registry::with_builtins();
        let o = call(&r, "builtin.fail", serde_json::json!({"message": "nope"}));
        assert_eq!(o.error, Some(ErrorClass::Function));
        assert_eq!(o.message.as_deref(), Some("nope"));
        let o = call(&r, "builtin.panic", serde_json::json!({}));
        assert_eq!(o.error, Some(ErrorClass::Function));
        assert!(o.message.unwrap().contains("panicked: builtin.panic"));
        let o = call(&r, "builtin.sha256", serde_json::json!({"size": "big"}));
        assert_eq!(o.error, Some(ErrorClass::Function));
    }

    #[test]
    fn a_panic_before_the_first_await_is_caught_too() {
        let mut r = Registry::new();
        r.register("sync.panic", |_ctx| -> std::future::Ready<FnResult> {
            panic!("sync");
        });
        let o = call(&r, "sync.panic", serde_json::json!({}));
        assert_eq!(o.error, Some(ErrorClass::Function));
    }
}
