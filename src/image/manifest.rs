//! Image manifests, indexes and configs (OCI and Docker v2 schema 2), and
//! the choice of one platform from an index the way Go opm's image library
//! chooses it (spec §4.2: platform os `linux`, the running architecture).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::digest::Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// What a registry is asked for, in order of preference.
pub const ACCEPT: &[&str] = &[OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// A content descriptor: what a parent says about a child.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
}

impl Descriptor {
    pub fn digest(&self) -> Result<Digest, String> {
        Digest::parse(&self.digest)
    }

    /// The declared size, which must not be negative.
    pub fn size(&self) -> Result<u64, String> {
        u64::try_from(self.size)
            .map_err(|_| format!("descriptor {} has negative size {}", self.digest, self.size))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

/// A parsed manifest document.
#[derive(Debug)]
pub enum Manifest {
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    Index {
        /// Docker's "manifest list" words its errors differently.
        docker: bool,
        manifests: Vec<Descriptor>,
    },
}

impl Manifest {
    /// Parse a manifest; the media type comes from the document (OCI lets
    /// it be absent, then the fields tell).
    pub fn parse(data: &[u8]) -> Result<Manifest, String> {
        let raw: Raw =
            serde_json::from_slice(data).map_err(|e| format!("parsing manifest: {e}"))?;
        match raw.schema_version {
            Some(2) => {}
            Some(1) => {
                return Err(
                    "unsupported manifest schema version 1 (Docker schema 1 images are not supported)"
                        .into(),
                );
            }
            v => return Err(format!("unsupported manifest schema version {v:?}")),
        }
        let mt = raw.media_type.as_deref().unwrap_or("");
        let is_index = match mt {
            OCI_INDEX | DOCKER_LIST => true,
            OCI_MANIFEST | DOCKER_MANIFEST => false,
            "" => raw.manifests.is_some(),
            other => return Err(format!("unsupported manifest media type {other:?}")),
        };
        if is_index {
            Ok(Manifest::Index {
                docker: mt == DOCKER_LIST,
                manifests: raw.manifests.unwrap_or_default(),
            })
        } else {
            Ok(Manifest::Image {
                config: raw.config.ok_or("manifest has no config descriptor")?,
                layers: raw.layers.unwrap_or_default(),
            })
        }
    }
}

/// The image config fields opm reads.
#[derive(Debug, Default, Deserialize)]
pub struct Config {
    #[serde(default)]
    config: Option<ConfigInner>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigInner {
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

impl Config {
    pub fn parse(data: &[u8]) -> Result<Config, String> {
        serde_json::from_slice(data).map_err(|e| format!("parsing image config: {e}"))
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        self.config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default()
    }

    /// The digests of the uncompressed layers (Docker archives have no
    /// other digest for them).
    pub fn diff_ids(&self) -> &[String] {
        self.rootfs.as_ref().map_or(&[], |r| &r.diff_ids)
    }
}

/// Go's name for the running architecture (`runtime.GOARCH`).
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// Pick the entry of an index for `linux`/[`go_arch`].
///
/// GO QUIRK (spec §4.2): Go opm asks its image library for OS `linux`
/// whatever the host, and the host's architecture; the first matching entry
/// wins. An entry with a variant matches when the wanted variant is empty
/// or equal (derived: containers/image also accepts older variants of
/// arm). The error texts are containers/image's (derived).
pub fn choose_platform(manifests: &[Descriptor], docker: bool) -> Result<&Descriptor, String> {
    let arch = go_arch();
    let want_variant = match arch {
        "arm64" => "v8",
        "arm" => "v7",
        _ => "",
    };
    let fits = |d: &&Descriptor| {
        d.platform.as_ref().is_some_and(|p| {
            p.os == "linux"
                && p.architecture == arch
                && match p.variant.as_deref().unwrap_or("") {
                    "" => true,
                    v => want_variant.is_empty() || v == want_variant,
                }
        })
    };
    if let Some(d) = manifests.iter().find(fits) {
        return Ok(d);
    }
    // An index entry without any platform is taken as "for every platform"
    // (derived: single-entry OCI indexes written by build tools).
    if let Some(d) = manifests.iter().find(|d| d.platform.is_none()) {
        return Ok(d);
    }
    let kind = if docker {
        "manifest list"
    } else {
        "image index"
    };
    Err(format!(
        "no image found in {kind} for architecture {arch:?}, variant {want_variant:?}, OS \"linux\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(os: &str, arch: &str) -> Descriptor {
        serde_json::from_str(&format!(
            r#"{{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{}","size":1,"platform":{{"os":"{os}","architecture":"{arch}"}}}}"#,
            "0".repeat(64)
        ))
        .unwrap()
    }

    #[test]
    fn chooses_linux_and_host_arch() {
        let list = vec![
            desc("windows", go_arch()),
            desc("linux", "mips"),
            desc("linux", go_arch()),
        ];
        let d = choose_platform(&list, false).unwrap();
        assert_eq!(d.platform.as_ref().unwrap().os, "linux");
        assert_eq!(d.platform.as_ref().unwrap().architecture, go_arch());
        let err = choose_platform(&list[..2], true).unwrap_err();
        assert!(err.starts_with("no image found in manifest list for architecture"));
    }

    #[test]
    fn parses_both_kinds() {
        let m = Manifest::parse(
            br#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:00","size":2},"layers":[]}"#,
        )
        .unwrap();
        assert!(matches!(m, Manifest::Image { .. }));
        let m = Manifest::parse(br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
        assert!(matches!(m, Manifest::Index { docker: false, .. }));
        assert!(Manifest::parse(br#"{"schemaVersion":1}"#).is_err());
    }
}
