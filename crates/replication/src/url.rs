//! `etcd://host:port[,host:port…]` → the endpoints etcd's client connects to.

use crate::ReplicationError;

/// The `http://host:port` endpoints named by an `etcd://` URL.
pub fn parse_etcd_url(url: &str) -> Result<Vec<String>, ReplicationError> {
    let invalid = |reason: &str| ReplicationError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let hosts = url
        .strip_prefix("etcd://")
        .ok_or_else(|| invalid("must start with etcd://"))?;
    let endpoints: Vec<String> = hosts
        .split(',')
        .map(|host| {
            let (name, port) = host
                .rsplit_once(':')
                .ok_or_else(|| invalid("each member is host:port"))?;
            if name.is_empty() || port.parse::<u16>().is_err() {
                return Err(invalid("each member is host:port with a port number"));
            }
            Ok(format!("http://{host}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_become_endpoints_and_bad_urls_are_refused() {
        assert_eq!(
            parse_etcd_url("etcd://127.0.0.1:2379,10.0.0.2:2379").unwrap(),
            ["http://127.0.0.1:2379", "http://10.0.0.2:2379"]
        );
        for bad in [
            "http://a:1",
            "etcd://",
            "etcd://a",
            "etcd://a:x",
            "etcd://:1",
            "etcd://a:1,",
        ] {
            assert!(parse_etcd_url(bad).is_err(), "{bad}");
        }
    }
}
