//! Containment and lineage for a caller: an item's contents and containers, and its trace
//! backward or forward, naming only items the caller may see.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::ItemNames;
use super::lineage::{DEFAULT_TRACE_DEPTH, Direction, LineageEdge, MAX_TRACE_DEPTH, Walk, current_contents};
use super::ports::LineageRepo;
use crate::domain::identity::access::Principal;
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::Item;
use crate::domain::items::ports::ItemRepo;
use crate::domain::items::relation::{ItemRelation, visible_item};
use crate::domain::{Error, Result};

combined_port!(
    /// What containment and lineage need from storage.
    pub trait LineageStore: LineageRepo, ItemRepo
);

/// Most levels `containers` climbs.
const MAX_CONTAINER_LEVELS: usize = 10;

pub struct LineageService {
    pub(crate) store: Arc<dyn LineageStore>,
    pub(crate) item_names: ItemNames,
}

/// An item as a trace names it.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceNode {
    pub dfid: String,
    pub epc: String,
    pub identifiers: Vec<Identifier>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub root: String,
    pub nodes: Vec<TraceNode>,
    pub edges: Vec<LineageEdge>,
    /// Some of the graph was left out: items or events the caller may not see, or the bounds.
    pub truncated: bool,
}

impl LineageService {
    /// The items `dfids` the caller may see, as a trace names them; whether any was left out.
    async fn nodes(
        &self,
        principal: &Principal,
        dfids: impl IntoIterator<Item = String>,
    ) -> Result<(Vec<TraceNode>, bool)> {
        let dfids: Vec<String> = dfids.into_iter().collect();
        let mut found: HashMap<String, (Item, ItemRelation)> = self
            .store
            .items_for(&dfids, &principal.user_id)
            .await?
            .into_iter()
            .map(|(item, facts)| {
                let relation = ItemRelation::of(&item, facts, &principal.user_id);
                (item.dfid.clone(), (item, relation))
            })
            .collect();
        let mut nodes = Vec::new();
        let mut hidden = false;
        for dfid in dfids {
            match found.remove(&dfid) {
                Some((item, relation)) if relation.can_see() => {
                    let item = item.as_seen_by(&principal.user_id);
                    let epc = self.item_names.of(
                        &dfid,
                        item.identifiers
                            .iter()
                            .find(|identifier| identifier.key == "epc")
                            .map(|identifier| identifier.value.as_str()),
                    );
                    nodes.push(TraceNode {
                        dfid,
                        epc,
                        identifiers: item.identifiers,
                    });
                }
                _ => hidden = true,
            }
        }
        Ok((nodes, hidden))
    }

    /// The item's current children, from the aggregation events the caller may see.
    pub async fn contents(&self, principal: &Principal, dfid: &str) -> Result<Vec<TraceNode>> {
        let (item, _) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        let events = self
            .store
            .aggregations(&principal.user_id, std::slice::from_ref(&item.dfid))
            .await?;
        let children = current_contents(events).remove(&item.dfid).unwrap_or_default();
        Ok(self.nodes(principal, children).await?.0)
    }

    /// The item's current parents, up the hierarchy (a cut's box, the box's pallet, the
    /// pallet's truck), nearest first.
    pub async fn containers(&self, principal: &Principal, dfid: &str) -> Result<Vec<TraceNode>> {
        let (item, _) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        let mut found: Vec<String> = Vec::new();
        let mut level = vec![item.dfid.clone()];
        let mut seen = BTreeSet::from([item.dfid]);
        for _ in 0..MAX_CONTAINER_LEVELS {
            let mut next = Vec::new();
            for child in &level {
                let parents = self.store.aggregation_parents(&principal.user_id, child).await?;
                let contents = current_contents(self.store.aggregations(&principal.user_id, &parents).await?);
                for (parent, children) in contents {
                    if children.contains(child) && seen.insert(parent.clone()) {
                        next.push(parent);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            found.extend(next.iter().cloned());
            level = next;
        }
        Ok(self.nodes(principal, found).await?.0)
    }

    /// The item's lineage through transformations and aggregations, `max_depth` steps (default
    /// 10, at most 50) in one direction. Items and events the caller may not see are left out
    /// and mark the trace truncated: a recall never shows another party's items.
    pub async fn trace(
        &self,
        principal: &Principal,
        dfid: &str,
        direction: Direction,
        max_depth: Option<u32>,
    ) -> Result<Trace> {
        let depth = max_depth.unwrap_or(DEFAULT_TRACE_DEPTH);
        if !(1..=MAX_TRACE_DEPTH).contains(&depth) {
            return Err(Error::field("max_depth", format!("1 to {MAX_TRACE_DEPTH}")));
        }
        let (item, _) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        let edges = self
            .store
            .lineage_within(&principal.user_id, &item.dfid, direction, depth)
            .await?;
        let mut touching: HashMap<String, Vec<LineageEdge>> = HashMap::new();
        for edge in edges {
            let near = match direction {
                Direction::Backward => edge.to.clone(),
                Direction::Forward => edge.from.clone(),
            };
            touching.entry(near).or_default().push(edge);
        }
        let mut walk = Walk::default();
        walk.reached.insert(item.dfid.clone(), 0);
        let mut frontier = vec![item.dfid.clone()];
        for level in 1..=depth {
            if frontier.is_empty() {
                break;
            }
            let edges = frontier
                .iter()
                .flat_map(|dfid| touching.get(dfid))
                .flatten()
                .cloned()
                .collect();
            frontier = walk.step(direction, edges, level);
        }
        // There may be more beyond the depth asked for.
        walk.truncated |= frontier.iter().any(|dfid| touching.contains_key(dfid));
        let mut reached: Vec<(u32, String)> = walk
            .reached
            .iter()
            .map(|(dfid, depth)| (*depth, dfid.clone()))
            .collect();
        reached.sort();
        let (nodes, hidden) = self.nodes(principal, reached.into_iter().map(|(_, dfid)| dfid)).await?;
        let shown: BTreeSet<&str> = nodes.iter().map(|node| node.dfid.as_str()).collect();
        let mut edges: Vec<LineageEdge> = walk
            .edges
            .iter()
            .filter(|edge| shown.contains(edge.from.as_str()) && shown.contains(edge.to.as_str()))
            .cloned()
            .collect();
        edges.sort_by(|a, b| (a.event_time, &a.from, &a.to).cmp(&(b.event_time, &b.from, &b.to)));
        Ok(Trace {
            root: item.dfid,
            nodes,
            edges,
            truncated: walk.truncated || hidden,
        })
    }
}
