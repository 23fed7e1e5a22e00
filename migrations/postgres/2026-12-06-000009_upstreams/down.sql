DROP TABLE upstream_sessions;
DROP TABLE upstream_logins;
DROP TABLE upstream_links;
DROP TABLE upstreams;
