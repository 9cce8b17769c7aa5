//! What operators and developers reach on every service: `/healthz` and `/readyz` on each
//! public HTTP port and its ops port (there readiness names the database, broker and topics it asked), gRPC health and
//! reflection on orders and users, and the gateway's GraphiQL page and `/config.json`.

use serde_json::{Value, json};
use std::net::SocketAddr;
use system_tests::Stack;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

#[actix_rt::test]
async fn every_service_says_it_lives_and_what_its_readiness_depends_on() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let http = reqwest::Client::new();
    // The checks each service's readiness runs (the gateway's backends are called lazily).
    let services: [(&str, SocketAddr, SocketAddr, Value); 4] = [
        ("users", stack.users.http_addr(), stack.users.ops_addr(), json!({ "database": "ok" })),
        (
            "orders",
            stack.orders.http_addr(),
            stack.orders.ops_addr(),
            json!({ "database": "ok", "broker": "ok", "topics": "ok" }),
        ),
        (
            "kitchen",
            stack.kitchen.http_addr(),
            stack.kitchen.ops_addr(),
            json!({ "database": "ok", "broker": "ok", "topics": "ok" }),
        ),
        ("gateway", stack.gateway.http_addr(), stack.gateway.ops_addr(), json!({})),
    ];
    for (name, public, ops, checks) in services {
        for addr in [public, ops] {
            let healthz = http.get(format!("http://{addr}/healthz")).send().await?;
            assert_eq!(healthz.status().as_u16(), 200, "{name} {addr} /healthz");
            assert_eq!(healthz.text().await?, "ok\n", "{name} {addr} /healthz");
        }
        // The public port says only whether (what a load balancer needs); the ops port says why.
        let public_readyz = http.get(format!("http://{public}/readyz")).send().await?;
        assert_eq!(public_readyz.status().as_u16(), 200, "{name} public /readyz");
        assert_eq!(public_readyz.text().await?, "ready\n", "{name} public /readyz");
        let readyz = http.get(format!("http://{ops}/readyz")).send().await?;
        assert_eq!(readyz.status().as_u16(), 200, "{name} /readyz");
        assert_eq!(readyz.json::<Value>().await?, checks, "{name} /readyz");
    }
    stack.stop().await;
    Ok(())
}

/// One reflection request on a fresh stream; its one answer.
async fn reflect(addr: SocketAddr, request: MessageRequest) -> anyhow::Result<MessageResponse> {
    let mut client = ServerReflectionClient::new(service_kit::grpc::channel(&format!("http://{addr}"))?);
    let outbound =
        futures::stream::iter([ServerReflectionRequest { host: String::new(), message_request: Some(request) }]);
    let mut answers = client.server_reflection_info(outbound).await?.into_inner();
    let answer: ServerReflectionResponse =
        answers.message().await?.ok_or_else(|| anyhow::anyhow!("reflection answered nothing"))?;
    answer.message_response.ok_or_else(|| anyhow::anyhow!("an empty reflection answer"))
}

#[actix_rt::test]
async fn grpc_ports_report_health_per_service_and_describe_themselves() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    for (addr, service) in [
        (stack.orders.grpc_addr(), "restaurant.v1.OrderService"),
        (stack.users.grpc_addr(), "restaurant.v1.UserService"),
    ] {
        let mut health = HealthClient::new(service_kit::grpc::channel(&format!("http://{addr}"))?);
        for name in ["", service] {
            let answer = health.check(HealthCheckRequest { service: name.to_owned() }).await?.into_inner();
            assert_eq!(answer.status, ServingStatus::Serving as i32, "{service} health of {name:?}");
        }
        let unknown = health
            .check(HealthCheckRequest { service: "restaurant.v1.NoSuchService".to_owned() })
            .await
            .expect_err("a service nobody serves");
        assert_eq!(unknown.code(), tonic::Code::NotFound, "{service}: {unknown:?}");

        let MessageResponse::ListServicesResponse(listed) =
            reflect(addr, MessageRequest::ListServices(String::new())).await?
        else {
            anyhow::bail!("{service}: reflection did not list services");
        };
        let names: Vec<&str> = listed.service.iter().map(|s| s.name.as_str()).collect();
        assert!(names.contains(&service), "{service} is not listed by reflection: {names:?}");
        // A client can fetch the service's definition by name (what grpcurl does).
        let MessageResponse::FileDescriptorResponse(files) =
            reflect(addr, MessageRequest::FileContainingSymbol(service.to_owned())).await?
        else {
            anyhow::bail!("{service}: reflection did not describe it");
        };
        assert!(!files.file_descriptor_proto.is_empty(), "{service}: no file descriptor");
    }
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_gateway_serves_graphiql_and_tells_browsers_where_the_kitchen_is() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let http = reqwest::Client::new();
    let gateway = stack.gateway.http_addr();

    let page = http.get(format!("http://{gateway}/graphql")).send().await?;
    assert_eq!(page.status().as_u16(), 200);
    let content_type = page.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = page.text().await?;
    assert!(html.contains("GraphiQL") && html.contains("/graphql"), "not the GraphiQL page:\n{html}");

    let config = http.get(format!("http://{gateway}/config.json")).send().await?;
    assert_eq!(config.status().as_u16(), 200);
    assert_eq!(config.json::<Value>().await?, json!({ "kitchenUrl": format!("http://{}", stack.kitchen.http_addr()) }));
    stack.stop().await;
    Ok(())
}
