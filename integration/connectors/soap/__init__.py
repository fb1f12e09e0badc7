"""SOAP/XML connectors (zeep), configured from the service's WSDL."""
