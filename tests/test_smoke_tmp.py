def test_list(client, network):
    r = client.get("/api/v1/organizations", headers=network["network_admin"].headers)
    assert r.status_code == 200, r.json
    assert len(r.json["items"]) >= 4
    r = client.get("/api/v1/organizations")
    assert r.status_code == 401, r.data
    print(r.headers, r.json)
    r = client.post("/api/v1/organizations", json={"kind": "cbo", "name": "X"}, headers=network["network_admin"].headers)
    assert r.status_code == 201, r.json
    print(r.headers, r.json)
    oid = r.json["id"]
    r = client.patch(f"/api/v1/organizations/{oid}", json={"website": "https://x.org"}, headers=network["network_admin"].headers)
    assert r.status_code == 428, r.json
    r = client.patch(f"/api/v1/organizations/{oid}", json={"website": "https://x.org"}, headers={**network["network_admin"].headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.json
    print(r.headers, r.json)
