namespace AiGateway.Markings;
