//! `opm alpha bundle generate` (annotations and Dockerfile for a manifests
//! directory, `bundle::generate`) and `opm alpha bundle unpack` (a bundle
//! image's content into a directory, through the checked unpacker).

use std::path::Path;

use crate::bundle::generate::{GenerateOptions, generate as generate_files, validate_format};
use crate::catalog::load::go_io_error;
use crate::cli::GlobalFlags;
use crate::cli::alpha::{GenerateBundleArgs, UnpackArgs};
use crate::output::{CmdResult, CommandError, Style, logrus_line};

pub fn generate(args: GenerateBundleArgs) -> CmdResult {
    let cobra = |m: String| CommandError::new(Style::Cobra, m);
    if let Some(a) = args.args.first() {
        return Err(cobra(format!(
            "unknown command {} for \"opm alpha bundle generate\"",
            crate::output::go_strconv_quote(a)
        )));
    }
    let Some(directory) = args.directory else {
        return Err(cobra("required flag(s) \"directory\" not set".into()));
    };
    let opts = GenerateOptions {
        directory,
        output_dir: args.output_dir,
        package: args.package,
        channels: args.channels,
        default_channel: args.default,
        base_image: args.base_image,
    };
    generate_files(&opts, &mut |m| eprint!("{}", logrus_line("info", &m))).map_err(cobra)
}

pub fn unpack(args: UnpackArgs, global: &GlobalFlags) -> CmdResult {
    let cobra = |m: String| CommandError::new(Style::Cobra, m);
    crate::cli::exact_args(&args.args, 1).map_err(cobra)?;
    let out = Path::new(&args.out);
    match std::fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out).map_err(|e| cobra(go_io_error("mkdir", out, &e)))?
        }
        Err(e) => return Err(cobra(go_io_error("stat", out, &e))),
        Ok(m) if !m.is_dir() => {
            return Err(cobra(format!("out {} is not a directory", args.out)));
        }
        Ok(_) => {}
    }
    let mut global = global.clone();
    if args.skip_tls_short {
        global.skip_tls = Some(true);
    }
    global.check_tls().map_err(cobra)?;
    let mut pull = super::super::pull_options(&global);
    if !args.root_ca.is_empty() {
        let pem = std::fs::read(&args.root_ca)
            .map_err(|e| cobra(go_io_error("open", Path::new(&args.root_ca), &e)))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(cobra(format!(
                "failed to fetch root CA from {}",
                args.root_ca
            )));
        }
        pull.ca_file = Some(args.root_ca.clone().into());
    }
    let reference = &args.args[0];
    let puller = crate::image::Puller::new(pull);
    let tmp = tempfile::Builder::new()
        .prefix("bundle-")
        .tempdir()
        .map_err(|e| cobra(format!("create temp dir: {e}")))?;
    puller.unpack_into(reference, tmp.path()).map_err(cobra)?;

    if args.skip_validation == Some(true) {
        eprint!(
            "{}",
            crate::output::logrus_line_fields(
                "info",
                "skipping bundle validation",
                &[("cmd".into(), "unpack".into())]
            )
        );
    } else {
        validate_format(tmp.path())
            .map_err(|e| cobra(format!("bundle format validation failed: {e}")))?;
        crate::bundle::render_image_dir(tmp.path(), reference)
            .map_err(|e| cobra(format!("bundle content validation failed: {e}")))?;
    }
    // A first pass only checks, so that a refused link leaves `out` as it was.
    copy_tree(tmp.path(), tmp.path(), out, 0, false)
        .and_then(|()| copy_tree(tmp.path(), tmp.path(), out, 0, true))
        .map_err(|e| {
            cobra(format!(
                "failed to copy unpacked content to output directory: {e}"
            ))
        })
}

/// Copy the unpacked image into `to`, merging with what is there. Each
/// file is written to a temporary sibling and renamed into place. A
/// symlink is copied as the file or folder it names, which the unpacker
/// has already kept inside the image root; one that leads out (or
/// nowhere) is refused, and so is a loop of folder links.
fn copy_tree(root: &Path, from: &Path, to: &Path, depth: usize, write: bool) -> Result<(), String> {
    // Symlinked folders can form loops.
    if depth > 64 {
        return Err(format!("{} is nested too deeply", from.display()));
    }
    if write {
        std::fs::create_dir_all(to).map_err(|e| go_io_error("mkdir", to, &e))?;
    }
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(|e| go_io_error("open", from, &e))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let src = e.path();
        let dst = to.join(e.file_name());
        let meta = std::fs::symlink_metadata(&src).map_err(|e| go_io_error("lstat", &src, &e))?;
        let real = if meta.file_type().is_symlink() {
            let target = std::fs::canonicalize(&src).map_err(|e| go_io_error("stat", &src, &e))?;
            let root = std::fs::canonicalize(root).map_err(|e| go_io_error("stat", root, &e))?;
            if !target.starts_with(&root) {
                return Err(format!("{} leaves the image root", src.display()));
            }
            target
        } else {
            src.clone()
        };
        if real.is_dir() {
            copy_tree(root, &real, &dst, depth + 1, write)?;
        } else if write && real.is_file() {
            let bytes = std::fs::read(&real).map_err(|e| go_io_error("open", &real, &e))?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".opm-")
                .tempfile_in(to)
                .map_err(|e| go_io_error("open", &dst, &e))?;
            std::io::Write::write_all(&mut tmp, &bytes)
                .map_err(|e| go_io_error("write", &dst, &e))?;
            let _ = std::fs::set_permissions(
                tmp.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o644),
            );
            tmp.persist(&dst)
                .map_err(|e| go_io_error("open", &dst, &e.error))?;
        }
    }
    Ok(())
}
