namespace AiGateway.Tests.Common;
