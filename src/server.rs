//! An in-process authoritative server (hickory-server) on a loopback port, serving zones of the
//! record model. Used by `dns-audit demo` and by the integration tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::{LowerName, Record, RecordType};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use crate::model::Zone;

/// A running server; it stops when dropped.
pub struct AuthServer {
    addr: SocketAddr,
    server: Server<Catalog>,
}

impl AuthServer {
    /// Serves `zones` on `bind` (port 0 for an ephemeral one), UDP and TCP on the same port.
    pub async fn start(bind: SocketAddr, zones: &[Zone]) -> std::io::Result<AuthServer> {
        let mut catalog = Catalog::new();
        for zone in zones {
            let handler = zone_handler(zone).map_err(std::io::Error::other)?;
            catalog.upsert(LowerName::new(&zone.origin), vec![Arc::new(handler)]);
        }
        AuthServer::listen(bind, catalog).await
    }

    /// A caching forwarder on `bind` that sends every question to `upstream` (the demo's
    /// recursive resolver: it keeps answers for their TTL, as resolvers do).
    pub(crate) async fn forwarder(
        bind: SocketAddr,
        upstream: SocketAddr,
    ) -> std::io::Result<AuthServer> {
        use hickory_server::store::forwarder::{ForwardConfig, ForwardZoneHandler};
        let config = ForwardConfig {
            name_servers: vec![crate::resolvers::name_server(upstream)],
            options: None,
        };
        let handler = ForwardZoneHandler::builder_tokio(config)
            .with_origin(hickory_proto::rr::Name::root())
            .build()
            .map_err(std::io::Error::other)?;
        let mut catalog = Catalog::new();
        catalog.upsert(
            LowerName::new(&hickory_proto::rr::Name::root()),
            vec![Arc::new(handler)],
        );
        AuthServer::listen(bind, catalog).await
    }

    async fn listen(bind: SocketAddr, catalog: Catalog) -> std::io::Result<AuthServer> {
        // Bind TCP first on the wanted port, then UDP on the port it got; with an ephemeral
        // port that UDP port may be taken, so try another.
        let mut attempts = 0;
        let (tcp, udp, addr) = loop {
            let tcp = TcpListener::bind(bind).await?;
            let addr = tcp.local_addr()?;
            match UdpSocket::bind(addr).await {
                Ok(udp) => break (tcp, udp, addr),
                Err(_) if bind.port() == 0 && attempts < 20 => attempts += 1,
                Err(e) => return Err(e),
            }
        };
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 64);
        Ok(AuthServer { addr, server })
    }

    /// The address it listens on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits until the sockets are closed.
    pub async fn stop(mut self) {
        let _ = self.server.shutdown_gracefully().await;
    }
}

fn zone_handler(zone: &Zone) -> Result<InMemoryZoneHandler, String> {
    let serial = zone.serial().ok_or("the zone has no SOA record")?;
    let mut handler = InMemoryZoneHandler::empty(
        zone.origin.clone(),
        ZoneType::Primary,
        AxfrPolicy::AllowAll,
        None,
    );
    for (name, sets) in zone.iter() {
        for (rtype, set) in sets {
            for rdata in &set.rdatas {
                let data = rdata
                    .to_hickory(*rtype)
                    .ok_or_else(|| format!("{rtype} record does not decode"))?;
                let record = Record::from_rdata(name.clone(), set.ttl, data);
                if !handler.upsert_mut(record, serial) && *rtype != RecordType::SOA {
                    return Err(format!("cannot serve {name} {rtype}"));
                }
            }
        }
    }
    Ok(handler)
}
