/// The SMTP gateway: takes the mail the SMTP server receives, decides per recipient
/// (`GatewayPolicy`), seals what goes outside into the vault and passes the rest on.
public enum GatewayModule {}
