//! Where Azure lives: the login authority, Resource Manager, Microsoft Graph and the
//! DNS suffixes of storage accounts and container registries.
//!
//! They come from `azure.endpoints.*` in the config and default to the Azure public
//! cloud, so a sovereign cloud is a config change, not a code change. The rehearsal
//! keeps these production names too: its listener answers for them because the
//! client resolves them to it (`network.resolve`), not because the URLs differ.

use crate::config::Config;
use crate::error::Failure;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Entra ID authority host, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    /// Resource Manager, e.g. `https://management.azure.com`.
    pub resource_manager: String,
    /// Microsoft Graph, e.g. `https://graph.microsoft.com`.
    pub graph: String,
    /// Blob endpoint suffix: `<account>.<storage_suffix>`, e.g. `blob.core.windows.net`.
    pub storage_suffix: String,
    /// Registry login server suffix: `<acr>.<acr_suffix>`, e.g. `azurecr.io`.
    pub acr_suffix: String,
}

impl Default for Endpoints {
    fn default() -> Endpoints {
        Endpoints {
            authority: "https://login.microsoftonline.com".into(),
            resource_manager: "https://management.azure.com".into(),
            graph: "https://graph.microsoft.com".into(),
            storage_suffix: "blob.core.windows.net".into(),
            acr_suffix: "azurecr.io".into(),
        }
    }
}

impl Endpoints {
    /// The public cloud, overridden key by key by `azure.endpoints.*`.
    pub fn from_config(config: &Config) -> Result<Endpoints, Failure> {
        let mut e = Endpoints::default();
        let url = |key: &str, into: &mut String| -> Result<(), Failure> {
            if let Some(v) = config.get_str(&format!("azure.endpoints.{key}")) {
                let v = v.trim_end_matches('/').to_string();
                if !v.starts_with("https://") {
                    return Err(Failure::config(format!(
                        "azure.endpoints.{key} in {}: `{v}` must be an https:// URL",
                        config.source
                    )));
                }
                *into = v;
            }
            Ok(())
        };
        url("authority", &mut e.authority)?;
        url("resource_manager", &mut e.resource_manager)?;
        url("graph", &mut e.graph)?;
        if let Some(v) = config.get_str("azure.endpoints.storage_suffix") {
            e.storage_suffix = v.trim_matches('.').to_string();
        }
        if let Some(v) = config.get_str("azure.endpoints.acr_suffix") {
            e.acr_suffix = v.trim_matches('.').to_string();
        }
        Ok(e)
    }

    /// The token scope for Resource Manager.
    pub fn arm_scope(&self) -> String {
        format!("{}/.default", self.resource_manager)
    }

    pub fn graph_scope(&self) -> String {
        format!("{}/.default", self.graph)
    }

    /// `https://<account>.blob.core.windows.net/`
    pub fn blob_url(&self, account: &str) -> String {
        format!("https://{account}.{}/", self.storage_suffix)
    }

    /// `<acr>.azurecr.io` (a name that already is a login server is kept).
    pub fn acr_login_server(&self, acr: &str) -> String {
        if acr.contains('.') {
            acr.to_string()
        } else {
            format!("{}.{}", acr.to_ascii_lowercase(), self.acr_suffix)
        }
    }
}
