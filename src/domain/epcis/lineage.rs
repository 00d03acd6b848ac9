//! What the events mean for items: containment (AggregationEvents put children into a parent,
//! and take them out) and lineage (TransformationEvents turn inputs into outputs), walked from
//! one item backward (what went into it) or forward (what it went into).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::domain::Timestamp;

/// Default and largest depth of a trace.
pub const DEFAULT_TRACE_DEPTH: u32 = 10;
pub const MAX_TRACE_DEPTH: u32 = 50;

/// Most items a trace names; a larger graph is cut and marked truncated.
pub const MAX_TRACE_NODES: usize = 1000;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Direction {
        /// Towards what went into the item (inputs, contents).
        Backward = "backward",
        /// Towards what the item went into (outputs, containers).
        Forward = "forward",
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub enum EdgeKind {
        Transformation = "transformation",
        Aggregation = "aggregation",
    }
}

/// Material flowing from one item to another: an input into an output, a child into its
/// parent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineageEdge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub event_id: String,
    pub event_time: Timestamp,
    /// Whether the viewer may see the event that records it.
    pub visible: bool,
}

/// One aggregation event on a parent, as containment reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregation {
    pub parent: String,
    /// ADD, OBSERVE or DELETE.
    pub action: String,
    /// The children's items (empty in a DELETE of everything).
    pub children: Vec<String>,
    pub event_time: Timestamp,
    pub seq: i64,
}

/// The children each parent holds now, from its aggregation events in time order: ADD and
/// OBSERVE put children in, DELETE takes the listed ones out (all of them when it lists none).
pub fn current_contents(mut events: Vec<Aggregation>) -> BTreeMap<String, BTreeSet<String>> {
    events.sort_by_key(|a| (a.event_time, a.seq));
    let mut contents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for event in events {
        let children = contents.entry(event.parent).or_default();
        match event.action.as_str() {
            "DELETE" if event.children.is_empty() => children.clear(),
            "DELETE" => {
                for child in &event.children {
                    children.remove(child);
                }
            }
            _ => children.extend(event.children),
        }
    }
    contents
}

/// The walk's result before items are looked at.
#[derive(Debug, Default, PartialEq)]
pub struct Walk {
    /// Items reached, with their distance from the root.
    pub reached: HashMap<String, u32>,
    pub edges: Vec<LineageEdge>,
    /// An edge the viewer may not see was met, or the walk hit its depth or size bound.
    pub truncated: bool,
}

impl Walk {
    /// Adds one level's edges (those touching `frontier`), returning the next frontier. Edges
    /// the viewer may not see are not followed and mark the walk truncated.
    pub fn step(&mut self, direction: Direction, edges: Vec<LineageEdge>, depth: u32) -> Vec<String> {
        let mut next = Vec::new();
        for edge in edges {
            if !edge.visible {
                self.truncated = true;
                continue;
            }
            let far = match direction {
                Direction::Backward => edge.from.clone(),
                Direction::Forward => edge.to.clone(),
            };
            if !self.reached.contains_key(&far) {
                if self.reached.len() >= MAX_TRACE_NODES {
                    self.truncated = true;
                    continue;
                }
                self.reached.insert(far.clone(), depth);
                next.push(far);
            }
            if !self.edges.contains(&edge) {
                self.edges.push(edge);
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregation(parent: &str, action: &str, children: &[&str], minute: u32) -> Aggregation {
        Aggregation {
            parent: parent.to_owned(),
            action: action.to_owned(),
            children: children.iter().map(|c| (*c).to_owned()).collect(),
            event_time: chrono::DateTime::from_timestamp(i64::from(minute) * 60, 0).unwrap(),
            seq: i64::from(minute),
        }
    }

    #[test]
    fn contents_follow_adds_and_deletes_in_time_order() {
        let contents = current_contents(vec![
            aggregation("pallet", "DELETE", &["b"], 3),
            aggregation("pallet", "ADD", &["a", "b"], 1),
            aggregation("pallet", "OBSERVE", &["c"], 2),
            aggregation("truck", "ADD", &["pallet"], 4),
            aggregation("truck", "DELETE", &[], 5),
        ]);
        assert_eq!(contents["pallet"], BTreeSet::from(["a".to_owned(), "c".to_owned()]));
        assert!(contents["truck"].is_empty());
    }

    fn edge(from: &str, to: &str, visible: bool) -> LineageEdge {
        LineageEdge {
            from: from.to_owned(),
            to: to.to_owned(),
            kind: EdgeKind::Aggregation,
            event_id: format!("{from}-{to}"),
            event_time: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            visible,
        }
    }

    #[test]
    fn hidden_edges_are_not_followed_and_truncate() {
        let mut walk = Walk::default();
        walk.reached.insert("cut".to_owned(), 0);
        let next = walk.step(
            Direction::Forward,
            vec![edge("cut", "pallet", false), edge("cut", "box", true)],
            1,
        );
        assert_eq!(next, vec!["box".to_owned()]);
        assert!(walk.truncated);
        assert_eq!(walk.edges.len(), 1);
    }
}
