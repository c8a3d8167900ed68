from rest_framework.metadata import SimpleMetadata


class EndpointMetadata(SimpleMetadata):
    """OPTIONS: the endpoint's name, description and formats. The fields are in the OpenAPI schema; building
    them here would look up the object and check permissions for every method, outside the views' own checks."""

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
