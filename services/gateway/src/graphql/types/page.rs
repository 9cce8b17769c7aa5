//! Where a page of a connection ends, shared by every connection.

use juniper::GraphQLObject;

#[derive(GraphQLObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}
