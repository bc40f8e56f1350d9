//! Registry credentials, looked up where Go opm looks for them (spec §4.2;
//! `containersimageregistry.getAuthFile`, what-users-ask §B1):
//!
//! 1. one "primary" file: `$REGISTRY_AUTH_FILE`, else
//!    `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; it is used
//!    when it exists and holds a credential for the image;
//! 2. otherwise the containers/image defaults, first match wins:
//!    `${XDG_RUNTIME_DIR}/containers/auth.json` (or
//!    `/run/containers/<uid>/auth.json` when `XDG_RUNTIME_DIR` is unset, the
//!    case of `sudo`), `$XDG_CONFIG_HOME/containers/auth.json` (or
//!    `~/.config/containers/auth.json`), the docker config file, and the
//!    legacy `~/.dockercfg`;
//! 3. otherwise anonymous (registries then hand out anonymous tokens).
//!
//! Inside one file, `credHelpers[<registry>]` is asked first, then the most
//! specific `auths` key (`host/ns/repo`, `host/ns`, `host`; keys written as
//! URLs such as `https://host/v1/` count as `host`), then `credsStore`
//! (docker's; containers/image ignores it, we honour it). Helpers follow
//! docker's protocol: `docker-credential-<name> get` with the registry on
//! standard input.

use std::path::{Path, PathBuf};

use docker_credential::DockerCredential;

/// A credential for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    Basic(String, String),
    /// An identity (refresh) token from `identitytoken` or a helper's
    /// `<token>` user.
    IdentityToken(String),
}

/// The files searched, in order: the primary one and the fall-backs.
pub fn auth_files() -> (PathBuf, Vec<PathBuf>) {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = env("HOME");
    let docker_file = env("DOCKER_CONFIG")
        .map(|d| d.join("config.json"))
        .or_else(|| home.as_ref().map(|h| h.join(".docker").join("config.json")))
        .unwrap_or_else(|| PathBuf::from(".docker/config.json"));
    let primary = env("REGISTRY_AUTH_FILE").unwrap_or_else(|| docker_file.clone());

    let mut rest = Vec::new();
    match env("XDG_RUNTIME_DIR") {
        Some(d) => rest.push(d.join("containers").join("auth.json")),
        None => rest.push(
            PathBuf::from("/run/containers")
                .join(current_uid().to_string())
                .join("auth.json"),
        ),
    }
    match env("XDG_CONFIG_HOME") {
        Some(d) => rest.push(d.join("containers").join("auth.json")),
        None => {
            if let Some(h) = &home {
                rest.push(h.join(".config").join("containers").join("auth.json"));
            }
        }
    }
    rest.push(docker_file);
    if let Some(h) = &home {
        rest.push(h.join(".dockercfg"));
    }
    (primary, rest)
}

fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of /proc/self is the process's user; no libc needed.
    std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
}

/// The credential for `registry` (a host[:port], `docker.io` for Docker
/// Hub) and `repository` (the path), or an error when a configured helper
/// or file fails.
pub fn lookup(registry: &str, repository: &str) -> Result<Credential, String> {
    let (primary, rest) = auth_files();
    if let Some(c) = from_file(&primary, registry, repository)? {
        return Ok(c);
    }
    for f in rest {
        if let Some(c) = from_file(&f, registry, repository)? {
            return Ok(c);
        }
    }
    Ok(Credential::Anonymous)
}

/// Normalise an `auths` key: URL forms name a host only (containers/image
/// `normalizeAuthFileKey`), and Docker Hub has several spellings.
fn normalize_key(key: &str) -> String {
    let stripped = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"));
    let key = match stripped {
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None => key,
    };
    match key {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        k => k.to_string(),
    }
}

/// The server name a credential helper is asked about.
fn helper_server(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".into()
    } else {
        registry.into()
    }
}

fn from_file(path: &Path, registry: &str, repository: &str) -> Result<Option<Credential>, String> {
    let Ok(data) = std::fs::read(path) else {
        return Ok(None);
    };
    let json: serde_json::Value = serde_json::from_slice(&data)
        .map_err(|e| format!("reading JSON file {:?}: {e}", path.display().to_string()))?;
    // The legacy ~/.dockercfg is the `auths` map itself.
    let (auths, helpers, store) = if json.get("auths").is_some()
        || json.get("credHelpers").is_some()
        || json.get("credsStore").is_some()
    {
        (
            json.get("auths").and_then(|v| v.as_object()).cloned(),
            json.get("credHelpers").and_then(|v| v.as_object()).cloned(),
            json.get("credsStore")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        )
    } else if path.file_name().is_some_and(|n| n == ".dockercfg") {
        (json.as_object().cloned(), None, None)
    } else {
        (None, None, None)
    };

    let ask_helper =
        |helper: &str| -> Result<Option<Credential>, String> {
            let server = helper_server(registry);
            match docker_credential::get_credential_from_reader(
                format!(r#"{{"credHelpers":{{"{server}":"{helper}"}}}}"#).as_bytes(),
                &server,
            ) {
                Ok(c) => Ok(Some(convert(c))),
                // An unknown server is "no credential", as docker treats it.
                Err(docker_credential::CredentialRetrievalError::HelperFailure {
                    stdout, ..
                }) if stdout.contains("credentials not found") => Ok(None),
                Err(e) => Err(format!(
                    "getting credentials for {registry} from docker-credential-{helper}: {e:?}"
                )),
            }
        };

    if let Some(h) = helpers
        .as_ref()
        .and_then(|h| h.get(registry).or_else(|| h.get(&helper_server(registry))))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
    {
        return ask_helper(h);
    }

    if let Some(auths) = &auths {
        // Most specific first: host/ns/repo, host/ns, host.
        let full = format!("{registry}/{repository}");
        let mut candidates = vec![full.clone()];
        let mut cur = full.as_str();
        while let Some((parent, _)) = cur.rsplit_once('/') {
            candidates.push(parent.to_string());
            cur = parent;
        }
        for want in candidates {
            let found = auths.iter().find(|(k, _)| {
                // Repository-scoped keys are matched as written; host keys
                // also in their URL spellings.
                k.as_str() == want || (!want.contains('/') && normalize_key(k) == want)
            });
            if let Some((key, entry)) = found {
                let doc = serde_json::json!({ "auths": { key.clone(): entry } });
                return match docker_credential::get_credential_from_reader(
                    doc.to_string().as_bytes(),
                    key,
                ) {
                    Ok(c) => Ok(Some(convert(c))),
                    Err(docker_credential::CredentialRetrievalError::NoCredentialConfigured) => {
                        // An entry with nothing usable in it (docker writes
                        // `{}` entries when a store holds the secret).
                        match &store {
                            Some(s) => ask_helper(s),
                            None => Ok(None),
                        }
                    }
                    Err(e) => Err(format!(
                        "reading credentials for {key:?} from {}: {e:?}",
                        path.display()
                    )),
                };
            }
        }
    }
    match &store {
        Some(s) if !s.is_empty() => ask_helper(s),
        _ => Ok(None),
    }
}

fn convert(c: DockerCredential) -> Credential {
    match c {
        DockerCredential::UsernamePassword(u, p) if u.is_empty() && p.is_empty() => {
            Credential::Anonymous
        }
        DockerCredential::UsernamePassword(u, p) => Credential::Basic(u, p),
        DockerCredential::IdentityToken(t) => Credential::IdentityToken(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_key("http://localhost:5000/v2/"), "localhost:5000");
        assert_eq!(normalize_key("quay.io/org"), "quay.io/org");
    }

    #[test]
    fn most_specific_key_wins() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.json");
        std::fs::write(
            &f,
            r#"{"auths":{
                "https://quay.io":{"auth":"aG9zdDpwdw=="},
                "quay.io/org":{"auth":"b3JnOnB3"}
            }}"#,
        )
        .unwrap();
        assert_eq!(
            from_file(&f, "quay.io", "org/repo").unwrap(),
            Some(Credential::Basic("org".into(), "pw".into()))
        );
        assert_eq!(
            from_file(&f, "quay.io", "other/repo").unwrap(),
            Some(Credential::Basic("host".into(), "pw".into()))
        );
        assert_eq!(from_file(&f, "ghcr.io", "x/y").unwrap(), None);
    }
}
