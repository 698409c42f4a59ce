//! Presigned Blob URLs as Langfuse makes them with workload identity: a user
//! delegation SAS.
//!
//! Without account keys, the only way to sign a URL someone else can use is a user
//! delegation key: the pod's identity asks the Blob service for one
//! (`POST /?restype=service&comp=userdelegationkey`, allowed by Storage Blob
//! Delegator), then signs the SAS with it. The rehearsal derives the key the way its
//! Blob endpoint does (`azure::blob::delegation_key`), so the Blob endpoint checks the
//! signature, the permissions and the key owner's data role exactly as for any other
//! user delegation SAS. Whether the identity may get the key at all is decided before
//! (`blob_access::access(…).presign`).

use base64::Engine as _;

use super::blob_access::BlobTarget;
use crate::azure::state::AzureState;
use crate::azure::{blob, web};

/// The service version the SAS is signed for (`sv`, `skv`).
const SAS_VERSION: &str = "2025-05-05";

/// What the URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create and write the blob (the client's upload `PUT`).
    Upload,
    /// Read the blob (the download link).
    Read,
}

impl Permission {
    fn letters(self) -> &'static str {
        match self {
            Permission::Upload => "cw",
            Permission::Read => "r",
        }
    }
}

/// `https://<account>.blob.core.windows.net/<container>/<path>?<user delegation SAS>`,
/// valid for `ttl_secs`, signed with a delegation key of `principal` (object id).
pub fn sas_url(
    s: &AzureState,
    principal: &str,
    t: &BlobTarget,
    path: &str,
    permission: Permission,
    ttl_secs: i64,
) -> String {
    let now = web::now();
    let start = web::iso(now);
    let expiry = web::iso(jiff::Timestamp::from_second(now.as_second() + ttl_secs).unwrap_or(now));
    let key = blob::delegation_key(s, principal, &start, &expiry);
    let account = t.account.to_ascii_lowercase();
    let canonical = format!("/blob/{account}/{}/{path}", t.container);
    let fields: Vec<(&str, String)> = vec![
        ("sp", permission.letters().to_string()),
        ("st", start.clone()),
        ("se", expiry.clone()),
        ("skoid", principal.to_string()),
        ("sktid", s.tenant_id.clone()),
        ("skt", start),
        ("ske", expiry),
        ("sks", "b".into()),
        ("skv", SAS_VERSION.into()),
        ("spr", "https".into()),
        ("sv", SAS_VERSION.into()),
        ("sr", "b".into()),
    ];
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // the string-to-sign of a user delegation SAS (service version 2020-12-06 and later)
    let to_sign = [
        get("sp"),
        get("st"),
        get("se"),
        canonical,
        get("skoid"),
        get("sktid"),
        get("skt"),
        get("ske"),
        get("sks"),
        get("skv"),
        String::new(), // saoid
        String::new(), // suoid
        String::new(), // scid
        String::new(), // sip
        get("spr"),
        get("sv"),
        get("sr"),
        String::new(), // snapshot time
        String::new(), // encryption scope
        String::new(), // rscc
        String::new(), // rscd
        String::new(), // rsce
        String::new(), // rscl
        String::new(), // rsct
    ]
    .join("\n");
    let hmac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let sig = base64::engine::general_purpose::STANDARD
        .encode(aws_lc_rs::hmac::sign(&hmac, to_sign.as_bytes()).as_ref());

    let mut url = url::Url::parse(&format!("https://{account}.blob.core.windows.net/"))
        .expect("a valid Blob URL");
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(&t.container);
        segments.extend(path.split('/'));
    }
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &fields {
            q.append_pair(k, v);
        }
        q.append_pair("sig", &sig);
    }
    url.to_string()
}
