//! Docker image references (`[domain[:port]/]path[:tag][@digest]`) with the
//! normalisation and error texts of `reference.ParseNormalizedNamed`, which
//! opm uses for pulls and for validating bundle images (validate spec §1.4
//! B7/B8).

use std::fmt;

pub const DEFAULT_DOMAIN: &str = "docker.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// What a render argument that is not a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// A registry image: `[docker://]name[:tag][@digest]`.
    Registry(Reference),
    /// `oci:<dir>[:<tag>]`: an OCI image layout on disk.
    OciLayout {
        dir: std::path::PathBuf,
        tag: Option<String>,
    },
    /// `docker-archive:<file>[:<image>]`: a `docker save` tarball.
    DockerArchive {
        file: std::path::PathBuf,
        image: Option<String>,
    },
}

/// Parse an image argument. The `oci:` and `docker-archive:` transports
/// are containers/image's syntax (path and name split at the first `:`);
/// anything else is a registry reference with Go's grammar and errors.
pub fn parse_image_ref(s: &str) -> Result<ImageRef, String> {
    let split = |rest: &str| match rest.split_once(':') {
        Some((p, n)) if !n.is_empty() => (std::path::PathBuf::from(p), Some(n.to_string())),
        Some((p, _)) => (std::path::PathBuf::from(p), None),
        None => (std::path::PathBuf::from(rest), None),
    };
    if let Some(rest) = s.strip_prefix("oci:") {
        let (dir, tag) = split(rest);
        return Ok(ImageRef::OciLayout { dir, tag });
    }
    if let Some(rest) = s.strip_prefix("docker-archive:") {
        let (file, image) = split(rest);
        return Ok(ImageRef::DockerArchive { file, image });
    }
    let name = s.strip_prefix("docker://").unwrap_or(s);
    parse_normalized_named(name).map(ImageRef::Registry)
}

const ERR_FORMAT: &str = "invalid reference format";
const ERR_UPPER: &str = "invalid reference format: repository name must be lowercase";

/// Parse a reference as Go's `ParseNormalizedNamed`.
pub fn parse_normalized_named(s: &str) -> Result<Reference, String> {
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        ));
    }
    let (domain, remainder) = split_docker_domain(s);
    let name_part = remainder.split([':', '@']).next().unwrap_or("");
    if name_part.to_lowercase() != name_part {
        return Err(ERR_UPPER.into());
    }
    parse(&format!("{domain}/{remainder}"))
}

fn split_docker_domain(name: &str) -> (String, String) {
    let Some((maybe_domain, rest)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN.into(), format!("library/{name}"));
    };
    let (domain, mut remainder) = if maybe_domain == "localhost" {
        (maybe_domain.to_string(), rest.to_string())
    } else if maybe_domain == "index.docker.io" {
        (DEFAULT_DOMAIN.into(), rest.to_string())
    } else if maybe_domain.contains(['.', ':']) {
        (maybe_domain.to_string(), rest.to_string())
    } else {
        (DEFAULT_DOMAIN.into(), name.to_string())
    };
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    (domain, remainder)
}

/// Go's `reference.Parse` of a full reference.
pub fn parse(s: &str) -> Result<Reference, String> {
    let r = match match_reference(s) {
        Some(r) => r,
        None => {
            if s.is_empty() {
                return Err("repository name must have at least one component".into());
            }
            if match_reference(&s.to_lowercase()).is_some() {
                return Err(ERR_UPPER.into());
            }
            return Err(ERR_FORMAT.into());
        }
    };
    let name_len = r.domain.len() + 1 + r.path.len();
    if name_len > 255 {
        return Err("repository name must not be more than 255 characters".into());
    }
    if let Some(d) = &r.digest {
        validate_digest(d)?;
    }
    Ok(r)
}

fn validate_digest(d: &str) -> Result<(), String> {
    let (algo, hex) = d.split_once(':').ok_or("invalid checksum digest format")?;
    let size = match algo {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => return Err("unsupported digest algorithm".into()),
    };
    if hex.len() != size * 2 {
        return Err("invalid checksum digest length".into());
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("invalid checksum digest format".into());
    }
    Ok(())
}

/// Match `^name(:tag)?(@digest)?$` where name is `(domain/)?path`.
fn match_reference(s: &str) -> Option<Reference> {
    let (rest, digest) = match s.split_once('@') {
        Some((a, d)) => {
            if !is_digest(d) {
                return None;
            }
            (a, Some(d.to_string()))
        }
        None => (s, None),
    };
    // A tag follows the last ':' when that ':' is after the last '/'.
    let last_slash = rest.rfind('/');
    let (name, tag) = match rest.rfind(':') {
        Some(i) if last_slash.is_none_or(|sl| i > sl) => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag
        && !is_tag(t)
    {
        return None;
    }
    let comps: Vec<&str> = name.split('/').collect();
    let (domain, path_comps) = if comps.len() > 1 && is_domain_and_port(comps[0]) {
        (comps[0].to_string(), &comps[1..])
    } else {
        (String::new(), &comps[..])
    };
    if path_comps.is_empty() || !path_comps.iter().all(|c| is_path_component(c)) {
        return None;
    }
    Some(Reference {
        domain,
        path: path_comps.join("/"),
        tag: tag.map(str::to_owned),
        digest,
    })
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "."
            || sep == "_"
            || sep == "__"
            || (!sep.is_empty() && sep.bytes().all(|x| x == b'-'));
        if !ok {
            return false;
        }
    }
    true
}

fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

fn is_domain_and_port(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return false;
        };
        let inner = &rest[..end];
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        let after = &rest[end + 1..];
        match after.strip_prefix(':') {
            Some(p) => ("[]", Some(p)),
            None if after.is_empty() => ("[]", None),
            None => return false,
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    host == "[]" || host.split('.').all(is_domain_component)
}

/// `[\w][\w.-]{0,127}`
fn is_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    let algo_ok = algo.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(|x| x.is_ascii_alphanumeric())
    });
    algo_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_familiar_names() {
        let r = parse_normalized_named("ubuntu").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/ubuntu");
        let r = parse_normalized_named("quay.io/org/bundle:v1.2.3").unwrap();
        assert_eq!(
            (r.domain.as_str(), r.path.as_str(), r.tag.as_deref()),
            ("quay.io", "org/bundle", Some("v1.2.3"))
        );
        let r = parse_normalized_named("localhost:5000/a/b@sha256:0123456789012345678901234567890123456789012345678901234567890123").unwrap();
        assert_eq!(r.domain, "localhost:5000");
        assert!(r.digest.is_some());
    }

    #[test]
    fn transports() {
        assert_eq!(
            parse_image_ref("oci:/tmp/layout:v1").unwrap(),
            ImageRef::OciLayout {
                dir: "/tmp/layout".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            parse_image_ref("docker-archive:img.tar").unwrap(),
            ImageRef::DockerArchive {
                file: "img.tar".into(),
                image: None
            }
        );
        let ImageRef::Registry(r) = parse_image_ref("docker://quay.io/a/b:1").unwrap() else {
            panic!("not a registry reference");
        };
        assert_eq!(r.to_string(), "quay.io/a/b:1");
    }

    #[test]
    fn go_error_texts() {
        assert_eq!(
            parse_normalized_named("./no/such/dir").unwrap_err(),
            ERR_FORMAT
        );
        assert_eq!(
            parse_normalized_named("Not A Valid//Ref:!!").unwrap_err(),
            ERR_UPPER
        );
        assert_eq!(
            parse_normalized_named("UPPER/case:tag").unwrap_err(),
            ERR_UPPER
        );
        assert_eq!(
            parse_normalized_named("a/b@sha256:abc").unwrap_err(),
            ERR_FORMAT
        );
        assert_eq!(
            parse_normalized_named("a/b@md5:0123456789abcdef0123456789abcdef").unwrap_err(),
            "unsupported digest algorithm"
        );
        assert_eq!(
            parse_normalized_named("a/b@sha256:0123456789abcdef0123456789abcdef").unwrap_err(),
            "invalid checksum digest length"
        );
        assert!(
            parse_normalized_named(&"a".repeat(64))
                .unwrap_err()
                .contains("64-byte hexadecimal")
        );
    }
}
