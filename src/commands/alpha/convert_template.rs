//! `opm alpha convert-template basic|substitutes [FILE|-]`: a rendered
//! catalog back into a template, on stdout.

use crate::catalog::Format;
use crate::catalog::load::go_quote;
use crate::cli::alpha::{ConvertArgs, ConvertTemplateArgs, ConvertTemplateCommand};
use crate::output::{CmdResult, CommandError, Style};
use crate::template::Kind;

pub fn run(args: ConvertTemplateArgs) -> CmdResult {
    let (kind, a) = match args.command {
        Some(ConvertTemplateCommand::Basic(a)) => (Kind::Basic, a),
        Some(ConvertTemplateCommand::Substitutes(a)) => (Kind::Substitutes, a),
        // Go's parent command has no Run: it prints its help.
        None => {
            use clap::CommandFactory;
            let mut cmd = crate::cli::Cli::command();
            if let Some(c) = cmd
                .find_subcommand_mut("alpha")
                .and_then(|a| a.find_subcommand_mut("convert-template"))
            {
                let _ = c.print_help();
            }
            return Ok(());
        }
    };
    convert(kind, a)
}

fn convert(kind: Kind, args: ConvertArgs) -> CmdResult {
    let use_line = format!(
        "opm alpha convert-template {} [<fbc-file> | -] [flags]",
        kind.type_name()
    );
    let cobra = |m: String| {
        let mut e = CommandError::new(Style::Cobra, m);
        e.usage = Some(super::cobra_usage(
            &use_line,
            &[(
                "-o, --output string",
                "Output format (json|yaml) (default \"json\")",
            )],
        ));
        e
    };
    if args.args.len() > 1 {
        return Err(cobra(format!(
            "accepts at most 1 arg(s), received {}",
            args.args.len()
        )));
    }
    // Go checks the flag with log.Fatalf.
    let format = Format::parse(&args.output).ok_or_else(|| {
        CommandError::new(
            Style::GoLog,
            format!(
                "invalid --output value {}, expected (json|yaml)",
                go_quote(&args.output)
            ),
        )
    })?;
    let path = args.args.first().map_or("-", String::as_str);
    let (text, name) = super::read_file_or_stdin(path)
        .map_err(|(name, _)| cobra(format!("unable to open input: {}", go_quote(&name))))?;
    let out = crate::template::convert::convert(&text, kind, format).map_err(|e| {
        let loc = e.line.map(|l| format!("{name}:{l}"));
        cobra(format!("converting: {}", e.message)).with_location(loc)
    })?;
    super::super::write_stdout(|w| w.write_all(&out)).map_err(|e| cobra(e.to_string()))
}
