extension JSONFields {
    /// Refuses a member that is `null`: docs/openapi.yaml gives no field of the API a null
    /// value, so `"recipients": null` is a 400 naming the field, not the same as leaving
    /// it out (which would revoke every recipient).
    func rejectNulls() throws(APIProblem) {
        for key in members.keys.sorted() where members[key] == .null {
            throw .invalidField(name(key), "\(name(key)) must not be null; leave it out instead")
        }
    }
}
