//! `opm migrate <catalog> <outdir>`: render a catalog (with migrations) into
//! one folder per package. The output appears whole or not at all: it is
//! written to a temporary sibling directory and renamed into place.

use std::path::Path;

use crate::catalog::{Format, load::go_quote, migrate::Level, write};
use crate::cli::{GlobalFlags, MigrateArgs, exact_args};
use crate::output::{CmdResult, CommandError, Style, logrus_line};
use crate::render::{Allowed, RenderOptions, render_ref};

pub fn run(args: MigrateArgs, global: &GlobalFlags) -> CmdResult {
    exact_args(&args.args, 2).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let golog = |m: String| CommandError::new(Style::GoLog, m);
    let fatal = |m: String| CommandError::new(Style::Logrus, m);
    let format = Format::parse(&args.output).ok_or_else(|| {
        golog(format!(
            "invalid --output value {}, expected (json|yaml)",
            go_quote(&args.output)
        ))
    })?;
    let level = Level::parse(&args.migrate_level).map_err(golog)?;
    global.check_tls().map_err(fatal)?;
    let (reference, out_dir) = (&args.args[0], Path::new(&args.args[1]));

    // v1.73 said "index" here; HEAD says "catalog" (spec §7.1).
    let what = if crate::sqlite::is_sqlite_file(Path::new(reference)) {
        "index"
    } else {
        "catalog"
    };
    eprint!(
        "{}",
        logrus_line(
            "info",
            &format!(
                "rendering {what} {} as file-based catalog",
                go_quote(reference)
            )
        )
    );
    if let Ok(mut entries) = std::fs::read_dir(out_dir)
        && entries.next().is_some()
    {
        return Err(fatal(format!(
            "output dir {} must be empty",
            go_quote(&args.args[1])
        )));
    }
    let notice = super::SqliteNotice::default();
    let on_sqlite = || notice.show();
    let puller = crate::image::Puller::new(super::pull_options(global));
    let opts = RenderOptions {
        migrate: level,
        image_ref_template: None,
        allowed: Allowed::CATALOGS,
        images: Some(&puller),
        on_sqlite: Some(&on_sqlite),
    };
    let cfg = render_ref(reference, &opts).map_err(|e| {
        fatal(format!(
            "render catalog image: render reference {}: {}",
            go_quote(reference),
            e.message
        ))
        .with_location(e.location)
    })?;

    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| fatal(format!("mkdir {}: {e}", parent.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".opm-migrate-")
        .tempdir_in(&parent)
        .map_err(|e| fatal(format!("create temp dir in {}: {e}", parent.display())))?;
    write::write_fs(&cfg, tmp.path(), format).map_err(fatal)?;
    // Go creates the directory 0777 before umask; tempfile makes it 0700.
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755));
    }
    // An empty existing output directory is replaced by the rename.
    let _ = std::fs::remove_dir(out_dir);
    let tmp_path = tmp.keep();
    std::fs::rename(&tmp_path, out_dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&tmp_path);
        fatal(format!("write {}: {e}", out_dir.display()))
    })?;
    eprint!(
        "{}",
        logrus_line(
            "info",
            &format!(
                "wrote rendered file-based catalog to {}\n",
                go_quote(&args.args[1])
            )
        )
    );
    Ok(())
}
