//! Go opm's aggregated error tree (`alpha/model/error.go`, validate spec
//! §1.7): how `model.Validate()` nests its messages and draws them with
//! `├──`/`└──`, and how the same tree becomes a flat list of located
//! diagnostics for the formats beyond Go's.

use super::{Diagnostic, Severity};
use crate::catalog::Location;

/// A leaf error: Go's message, plus what Go does not show (rule, place).
#[derive(Debug, Clone)]
pub struct Leaf {
    pub message: String,
    pub rule: &'static str,
    pub location: Option<Location>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Node(Node),
    Leaf(Leaf),
}

/// Go's `validationError`: a message and its sub-errors.
#[derive(Debug, Clone)]
pub struct Node {
    pub message: String,
    pub children: Vec<Item>,
}

impl Node {
    pub fn new(message: impl Into<String>) -> Self {
        Node {
            message: message.into(),
            children: Vec::new(),
        }
    }

    pub fn leaf(
        &mut self,
        rule: &'static str,
        location: Option<Location>,
        message: impl Into<String>,
    ) {
        self.children.push(Item::Leaf(Leaf {
            message: message.into(),
            rule,
            location,
        }));
    }

    /// Go's `orNil`: a node without sub-errors is no error, and vanishes.
    pub fn push_node(&mut self, child: Node) {
        if !child.children.is_empty() {
            self.children.push(Item::Node(child));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// The text Go prints: `msg:` then each child on its own line, drawn
    /// with a prefix that grows by four runes per level; trimmed.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&[], true, &mut out);
        out.trim().to_string()
    }

    fn render_into(&self, prefix: &[char], last: bool, out: &mut String) {
        out.extend(prefix.iter());
        out.push_str(&self.message);
        out.push_str(if self.children.is_empty() {
            "\n"
        } else {
            ":\n"
        });
        let n = self.children.len();
        for (i, child) in self.children.iter().enumerate() {
            let mut sub = prefix.to_vec();
            if sub.len() >= 4 {
                sub.truncate(sub.len() - 4);
                sub.extend(if last { "    " } else { "│   " }.chars());
            }
            let sub_last = i == n - 1;
            sub.extend(if sub_last { "└── " } else { "├── " }.chars());
            match child {
                Item::Node(node) => node.render_into(&sub, sub_last, out),
                Item::Leaf(leaf) => {
                    // A multi-line leaf gets no prefix on its later lines.
                    out.extend(sub.iter());
                    out.push_str(&leaf.message);
                    out.push('\n');
                }
            }
        }
    }

    /// Every leaf as a diagnostic whose context is the chain of enclosing
    /// node messages (the root excluded), in tree order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for child in &self.children {
            flatten(child, &mut Vec::new(), &mut out);
        }
        out
    }
}

fn flatten(item: &Item, context: &mut Vec<String>, out: &mut Vec<Diagnostic>) {
    match item {
        Item::Leaf(leaf) => out.push(Diagnostic {
            severity: Severity::Error,
            rule: leaf.rule,
            message: leaf.message.clone(),
            context: context.clone(),
            location: leaf.location.clone(),
        }),
        Item::Node(node) => {
            context.push(node.message.clone());
            for child in &node.children {
                flatten(child, context, out);
            }
            context.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_go() {
        let mut a = Node::new("invalid package \"a\"");
        a.leaf("r", None, "default channel must be set");
        let mut b = Node::new("invalid package \"b\"");
        let mut ch = Node::new("invalid channel \"stable\"");
        ch.leaf(
            "r",
            None,
            "channel contains one or more stranded bundles: b.v0.1.0",
        );
        let mut bundle = Node::new("invalid bundle \"b.v0.2.0\"");
        bundle.leaf("r", None, "invalid skipRange \"<1.0\": x");
        ch.push_node(bundle);
        ch.push_node(Node::new("empty vanishes"));
        b.push_node(ch);
        let mut root = Node::new("invalid index");
        root.push_node(a);
        root.push_node(b);
        assert_eq!(
            root.render(),
            "invalid index:\n\
             ├── invalid package \"a\":\n\
             │   └── default channel must be set\n\
             └── invalid package \"b\":\n    \
             └── invalid channel \"stable\":\n        \
             ├── channel contains one or more stranded bundles: b.v0.1.0\n        \
             └── invalid bundle \"b.v0.2.0\":\n            \
             └── invalid skipRange \"<1.0\": x"
        );
        let d = root.diagnostics();
        assert_eq!(d.len(), 3);
        assert_eq!(
            d[2].context,
            vec![
                "invalid package \"b\"",
                "invalid channel \"stable\"",
                "invalid bundle \"b.v0.2.0\""
            ]
        );
    }

    #[test]
    fn middle_sibling_keeps_the_bar() {
        let mut root = Node::new("r");
        for name in ["x", "y"] {
            let mut n = Node::new(name);
            let mut m = Node::new("inner");
            m.leaf("r", None, "leaf");
            n.push_node(m);
            root.push_node(n);
        }
        assert_eq!(
            root.render(),
            "r:\n├── x:\n│   └── inner:\n│       └── leaf\n└── y:\n    └── inner:\n        └── leaf"
        );
    }
}
